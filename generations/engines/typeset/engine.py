"""The `typeset` engine: Studio's embedded, deterministic, offline preview renderer.

It is not a neural model. It reads the prompt for motifs (sunset, mountains, skyline,
a person, a cup...), colour words and quoted text; paints a layered scene in the request's
palette (or one suited to the motifs); finishes it in the chosen style; and letters every
quoted phrase exactly, sized to fit and set off from what is beneath it. Same prompt,
parameters and seed give the same pixels, on any machine with the same Pillow, because all
randomness comes from a seeded `random.Random` and the fonts ship beside this module.

With deep thinking it plans the lettering: it tries several placements on the finished
scene, scores each for size, contrast and clearance of the subject, and keeps the best.
The helpers: `_typeset_text` (prompt reading, fonts, fitting, lettering), `_typeset_layout`
(placements and their scores), `_typeset_paint` / `_typeset_motifs` / `_typeset_subjects`
(palette, canvas, scene) and `_typeset_style` (the presets).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from typing import Any

from PIL import Image

from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.engines.typeset.canvas import Canvas
from generations.engines.typeset.glyphs import describe
from generations.engines.typeset.layout import REGIONS, candidate
from generations.engines.typeset.lettering import block_entry
from generations.engines.typeset.motifs import paint_scene
from generations.engines.typeset.paint import Palette, Scene, choose_motifs, make_palette
from generations.engines.typeset.prompt import PromptReading, read_prompt, undrawable_quoted_text
from generations.engines.typeset.style import LOOKS, auto_preset, finish, grade
from generations.engines.typeset.text import draw_blocks
from generations.specs import Spec

VERSION = "1"


COMPOSITION_SIDES = ("center", "left", "right")
COMPOSITION_VARIANTS = 2
COMPOSITION_STRIDE = 7919  # a variant's painting seed is the scene seed plus this many times its number
THIRDS = [(x, y) for x in (1 / 3, 2 / 3) for y in (1 / 3, 2 / 3)]


def composition_score(image: Image.Image) -> float:
    """0..1: how near the centre of visual weight lies to a thirds point, and how wide the tonal range is.

    Visual weight is each pixel's distance from the mean luminance, so a bright sun on a
    dark sky, or a dark subject on a light ground, pulls the centre towards itself.
    """
    grey = image.convert("L")
    w, h = grey.size
    values = list(grey.tobytes())  # an "L" image: one byte per pixel, row by row
    mean = sum(values) / len(values)
    total = cx = cy = 0.0
    for i, v in enumerate(values):
        weight = abs(v - mean)
        total += weight
        cx += weight * (i % w)
        cy += weight * (i // w)
    if not total:
        return 0.0
    x, y = cx / total / w, cy / total / h
    nearest = min(((x - tx) ** 2 + (y - ty) ** 2) ** 0.5 for tx, ty in THIRDS)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return 0.65 * max(0.0, 1 - nearest / 0.5) + 0.35 * min(1.0, spread / 64)


def scene_seed(spec: Spec, reading: PromptReading) -> int:
    """A stable 64-bit seed from the prompt (without its quoted text), parameters and seed.

    The quoted text is left out so that changing only the words to letter changes only
    the lettering; deep thinking is left out so that it changes only the layout.
    """
    key = json.dumps(
        [reading.scene_text, spec.aspect_ratio, spec.style, list(spec.colors), spec.seed or 0], ensure_ascii=True
    )
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


class TypesetEngine(Engine):
    """Composes a preview from prompt, palette and style; letters quoted text exactly.

    Options: `step_delay` (seconds to sleep after each progress step; default 0), so
    end-to-end tests can watch a render in flight.
    """

    name = "typeset"
    label = "Typeset (offline preview engine)"
    description = (
        "A deterministic offline preview renderer, not a neural model: it composes a layout from the prompt, "
        "the palette and the style, and renders quoted text exactly."
    )
    neural = False
    deep_thinking = (
        "Tries several layouts and keeps the best-scored: each placement of the quoted text (size, contrast, "
        "clearance), or with nothing quoted, several sketched compositions."
    )

    def describe(self) -> dict[str, Any]:
        # It letters quoted text itself, exactly: what `exact_text` promises of a wrapped engine.
        return {**super().describe(), "exact_text": True}

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        delay = float(self.options.get("step_delay") or 0)

        def step(fraction: float, note: str) -> None:
            progress(fraction, note)
            if delay:
                time.sleep(delay)

        step(0.05, "reading prompt")
        reading = read_prompt(spec.prompt)
        missing = undrawable_quoted_text(spec.prompt)
        if missing:  # validation refuses these before charging; an older queued row may still hold some
            raise EngineError(f"No font of the typeset engine can draw {describe(missing)}.")
        seed = scene_seed(spec, reading)
        rng = random.Random(seed)
        motifs = choose_motifs(reading.words, reading.scene_text)
        preset = spec.style_preset
        if preset == "auto":
            preset = auto_preset(reading.scene_text, motifs, rng)
        palette = grade(make_palette(motifs, spec.colors, reading.background, reading.accents, rng), preset)

        side, composition = reading.subject_side, None
        if spec.deep_thinking and not reading.quotes:
            # Nothing to letter, so deep thinking plans the picture itself: it sketches
            # several compositions small and paints the best-balanced one full size.
            side, variant, composition = self._compose(spec, reading, motifs, palette, preset, seed, step)
            rng = random.Random(seed + variant * COMPOSITION_STRIDE)
        step(0.2, "painting background")
        canvas = Canvas(spec.width, spec.height)
        scene = paint_scene(canvas, motifs, palette, rng, LOOKS[preset], side, excited="excited" in reading.words)
        step(0.45, "painting motifs")
        image = canvas.result()

        step(0.6, "applying style")
        image = finish(image, preset, palette, random.Random(seed ^ 0x5F3759DF))

        step(0.75, "planning layout")
        plan: dict[str, Any] = {
            "deep_thinking": spec.deep_thinking,
            "style_preset": preset,
            "motifs": scene.motifs,
            "palette": palette.hexes(),
            "subject_box": scene.subject_box,
            "motif_boxes": [{"motif": name, "box": box} for name, box in scene.busy],
            "text_boxes": [],
        }
        if composition is not None:
            plan["composition"] = composition
        if reading.quotes:
            self._letter(image, spec, reading, preset, palette, scene, plan, step)
        step(1.0, "done")
        info = {"engine": self.name, "version": VERSION, "style_preset": preset, "motifs": scene.motifs}
        return RenderResult(image=image, plan=plan, info=info)

    def _compose(
        self,
        spec: Spec,
        reading: PromptReading,
        motifs: list[str],
        palette: Palette,
        preset: str,
        seed: int,
        step: ProgressFn,
    ) -> tuple[str, int, dict[str, Any]]:
        """Sketch every composition at 1/8 size and score it; (side, variant, what was decided).

        A composition is where the subject stands (unless the prompt says) and one of a few
        arrangements of the sky and land. The score favours a centre of visual weight near
        a rule-of-thirds point and a clear tonal range (see `composition_score`).
        """
        sides = [reading.subject_side] if reading.subject_side != "center" else list(COMPOSITION_SIDES)
        tried: list[dict[str, Any]] = []
        options = [(side, variant) for side in sides for variant in range(COMPOSITION_VARIANTS)]
        for n, (side, variant) in enumerate(options):
            sketch = Canvas(max(48, spec.width // 8), max(48, spec.height // 8), scale=1)
            paint_scene(
                sketch,
                motifs,
                palette,
                random.Random(seed + variant * COMPOSITION_STRIDE),
                LOOKS[preset],
                side,
                excited="excited" in reading.words,
            )
            tried.append({"side": side, "variant": variant, "score": round(composition_score(sketch.result()), 3)})
            step(0.05 + 0.13 * (n + 1) / len(options), f"planning composition ({n + 1}/{len(options)})")
        best = max(tried, key=lambda c: c["score"])  # the first of equals: deterministic
        return best["side"], best["variant"], {"chosen": best, "candidates": tried}

    def _letter(
        self,
        image: Image.Image,
        spec: Spec,
        reading: PromptReading,
        preset: str,
        palette: Palette,
        scene: Scene,
        plan: dict[str, Any],
        step: ProgressFn,
    ) -> None:
        """Choose where the quotes go (one placement, or the best of several), then letter them."""
        suggested = reading.text_position or scene.text_hint
        # An explicit "text at the top" outweighs everything else; the scene's hint only tips close calls.
        wanted = {reading.text_position: 0.5} if reading.text_position else {scene.text_hint: 0.1}
        names = list(REGIONS) if spec.deep_thinking else [suggested]
        candidates = []
        for n, name in enumerate(names):
            candidates.append(candidate(image, name, reading.quotes, preset, palette, scene, wanted))
            if spec.deep_thinking:
                step(0.75 + 0.13 * (n + 1) / len(names), f"planning layout: {name} ({n + 1}/{len(names)})")
        if not spec.deep_thinking and (candidates[0].scores["clear"] < 1 or candidates[0].scores["fit"] < 0.75):
            # The suggested place is crowded by a motif or the subject: look at the others too.
            others = [n for n in REGIONS if n != suggested]
            candidates += [candidate(image, n, reading.quotes, preset, palette, scene, wanted) for n in others]
        best = max(candidates, key=lambda c: c.score)
        step(0.9, "lettering")
        boxes = draw_blocks(image, best.blocks, best.treatments, best.origin, best.width)
        for block, treat, box, check in zip(best.blocks, best.treatments, boxes, best.checks, strict=True):
            plan["text_boxes"].append(block_entry(block, treat, box, check))
        plan["chosen"] = best.name
        if spec.deep_thinking:
            plan["candidates"] = [c.summary() for c in candidates]
