"""`typeset`, the embedded offline engine: a deterministic renderer, no neural network.

`engine` (the Engine class and the render's stages), `prompt` (reading the prompt),
`layout` (where text and subject go), `text` (fitting and drawing quoted text),
`paint` (canvas, palette, shapes), `motifs` and `subjects` (what is drawn), `style`
(the presets' looks and finishing).
"""

from generations.engines.typeset.engine import TypesetEngine

__all__ = ["TypesetEngine"]
