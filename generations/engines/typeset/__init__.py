"""`typeset`, the embedded offline engine: a deterministic renderer, no neural network.

`engine` (the Engine class and the render's stages), `prompt` (reading the prompt),
`layout` (where text goes: clear of busy motifs, with enough contrast), `text` (fitting
and drawing quoted text), `glyphs` (which shipped font draws each character, and what
none can), `breaks` (where lines may break: between words or CJK characters),
`paint` (canvas, palette, shapes), `motifs` and `subjects` (what is drawn), `style`
(the presets' looks and finishing).
"""

from generations.engines.typeset.engine import TypesetEngine

__all__ = ["TypesetEngine"]
