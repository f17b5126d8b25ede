"""Where the typeset engine puts lettering, and how it makes it stand out.

A candidate is one region of the image (a band at the top, the centre, a column...) with
the quotes fitted into it at the largest size that fits. Scoring looks at what is
actually painted under the fitted text: the WCAG contrast between the text colour and
the darkest and lightest tenth of what is there (the worse of the two counts), how busy
it is (luminance spread), whether it covers the scene's subject, and whether it is where
the prompt or the scene suggests. Deep thinking scores
every region and keeps the best; the cheap path fits the suggested region only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageStat

from generations.engines.typeset.paint import RGB, Palette, Scene, shade
from generations.engines.typeset.prompt import Quote
from generations.engines.typeset.text import (
    HEADLINE_FONT,
    SLAB_FONT,
    TEXT_FONT,
    Block,
    Treatment,
    block_gap,
    contrast,
    fit_blocks,
    font_for,
    luminance,
)

WHITE: RGB = (255, 255, 255)
REGIONS = ("top", "center", "bottom", "left", "right")
MAX_BLOCKS = 3  # quotes set as separate blocks; any more share the last one
STROKE = {"digital-art": 0.05, "anime": 0.08, "photorealistic": 0.035}  # outline, as a fraction of the size
WEIGHTS = {"fit": 0.3, "contrast": 0.3, "calm": 0.15, "clear": 0.25}


@dataclass
class Candidate:
    """One placement tried: the region, the fitted blocks, their treatments and the scores."""

    name: str
    box: tuple[int, int, int, int]
    blocks: list[Block]
    treatments: list[Treatment]
    origin: tuple[int, int]  # top-left of the stacked blocks; they are centred in `width`
    width: int
    scores: dict[str, float]
    score: float

    def summary(self) -> dict[str, Any]:
        """What the plan records about this candidate (JSON-serialisable)."""
        return {
            "name": self.name,
            "box": list(self.box),
            "font_size": self.blocks[0].size,
            "scores": self.scores,
            "score": self.score,
        }


def region(name: str, w: int, h: int) -> tuple[int, int, int, int]:
    """A named placement as [x0, y0, x1, y1], inside margins of 6% of the short side."""
    m = round(0.06 * min(w, h))
    return {
        "top": (m, m, w - m, round(0.36 * h)),
        "center": (m, round(0.3 * h), w - m, round(0.7 * h)),
        "bottom": (m, round(0.64 * h), w - m, h - m),
        "left": (m, m, w // 2 - m // 2, h - m),
        "right": (w // 2 + m // 2, m, w - m, h - m),
    }[name]


@dataclass
class Ground:
    """What is painted beneath a text box: its darkest and lightest tenth, and how busy it is."""

    dark: tuple[int, int, int]  # 10th percentile of luminance, as a grey
    light: tuple[int, int, int]  # 90th percentile
    busy: float  # standard deviation of luminance

    @classmethod
    def of(cls, region: Image.Image) -> Ground:
        grey = region.convert("L")
        hist, total, seen = grey.histogram(), region.width * region.height, 0
        levels: list[int] = []
        for level, count in enumerate(hist):
            seen += count
            while len(levels) < 2 and seen >= total * (0.1, 0.9)[len(levels)]:
                levels.append(level)
        lo, hi = [*levels, 255, 255][:2]
        return cls((lo, lo, lo), (hi, hi, hi), ImageStat.Stat(grey).stddev[0])

    def legibility(self, fill: RGB) -> float:
        """The WCAG contrast of `fill` against the less favourable side of the ground."""
        return min(contrast(fill, self.dark), contrast(fill, self.light))


def _fill_for(ground: Ground, asked: RGB | None, preset: str, palette: Palette) -> RGB:
    """The colour the prompt asked for, else the most legible of light, dark and accent."""
    if asked:
        return asked
    if preset in ("retro", "digital-art", "anime") and ground.legibility(palette.accent) >= 4.5:
        return palette.accent
    dark = (26, 26, 30) if preset == "minimalist" else shade(palette.near, 0.4)
    light = WHITE if preset not in ("retro", "watercolor", "oil-painting") else (252, 246, 232)
    return max((light, dark), key=ground.legibility)


def _treatment(fill: RGB, ground: Ground, preset: str, palette: Palette) -> Treatment:
    """Stroke, shadow and plate so that `fill` reads clearly over `ground`."""
    light_fill = luminance(fill) > 0.4
    edge = shade(palette.near, 0.35) if light_fill else WHITE
    ratio = ground.legibility(fill)
    stroke = STROKE.get(preset, 0.0)
    if ratio < 4.5 and preset not in ("minimalist", "watercolor"):
        stroke = max(stroke, 0.055)
    treat = Treatment(fill=fill, stroke=edge, stroke_ratio=stroke, shadow=shade(palette.near, 0.3))
    if preset == "retro":
        treat.shadow, treat.shadow_blur, treat.shadow_offset = palette.accent2, 0.0, 0.07
    elif preset == "anime":
        treat.shadow, treat.shadow_blur, treat.shadow_offset = shade(palette.near, 0.4), 0.0, 0.05
    elif preset == "minimalist":
        treat.shadow = None
    if light_fill and treat.shadow and luminance(treat.shadow) > 0.3:
        treat.shadow = (20, 16, 24)
    if not stroke and ratio < 3:  # no outline in this style: a plate behind instead
        plate = shade(palette.near, 0.45) if light_fill else (250, 247, 240)
        treat.plate = (*plate, 255 if preset == "minimalist" else 190)
    return treat


def _blocks_of(quotes: list[Quote]) -> list[Quote]:
    """The quotes as at most MAX_BLOCKS blocks; the rest share the last, each set exactly."""
    if len(quotes) <= MAX_BLOCKS:
        return quotes
    rest = quotes[MAX_BLOCKS - 1 :]
    merged = Quote(" \u00b7 ".join(q.text for q in rest), rest[0].start, rest[-1].end, rest[0].color, rest[0].bold)
    return [*quotes[: MAX_BLOCKS - 1], merged]


def candidate(
    image: Image.Image, name: str, quotes: list[Quote], preset: str, palette: Palette, scene: Scene, wanted: dict
) -> Candidate:
    """Fit the quotes into one region, look at what is painted beneath, and score it.

    `wanted` maps region names to a bonus: where the prompt asked for the text, or where
    the scene leaves room for it.
    """
    w, h = image.size
    x0, y0, x1, y1 = region(name, w, h)
    quotes = _blocks_of(quotes)
    headline = SLAB_FONT if preset in ("retro", "oil-painting") else TEXT_FONT
    fonts = [font_for(q.text, HEADLINE_FONT if q.bold and headline == TEXT_FONT else headline) for q in quotes]
    max_size = round(min(w, h) * (0.2 if preset != "minimalist" else 0.12))
    stroke = max(STROKE.get(preset, 0.0), 0.055)
    blocks = fit_blocks(quotes, fonts, x1 - x0, y1 - y0, max_size, stroke, min_sub=round(0.03 * min(w, h)))
    total = sum(b.height for b in blocks) + block_gap(blocks) * (len(blocks) - 1)
    widest = max(b.width for b in blocks)
    top = y0 + (y1 - y0 - total) // 2
    ink = (x0 + (x1 - x0 - widest) // 2, top, x0 + (x1 - x0 + widest) // 2, top + total)

    ground = Ground.of(image.crop(ink))
    fill = _fill_for(ground, quotes[0].color, preset, palette)
    treat = _treatment(fill, ground, preset, palette)
    treatments = [treat] + [
        _treatment(b.quote.color, ground, preset, palette) if b.quote.color else treat for b in blocks[1:]
    ]
    overlap = 0.0
    if scene.subject_box:
        sx0, sy0, sx1, sy1 = scene.subject_box
        ow = max(0, min(ink[2], sx1) - max(ink[0], sx0))
        oh = max(0, min(ink[3], sy1) - max(ink[1], sy0))
        overlap = ow * oh / max(1, (ink[2] - ink[0]) * (ink[3] - ink[1]))
    scores = {
        "fit": round(min(1.0, blocks[0].size / (0.15 * min(w, h))), 4),
        "contrast": round(min(1.0, (ground.legibility(fill) - 1) / 6), 4),
        "calm": round(1 - min(1.0, ground.busy / 70), 4),
        "clear": round(1 - overlap, 4),
    }
    score = sum(WEIGHTS[k] * v for k, v in scores.items()) + wanted.get(name, 0.0)
    scores["wanted"] = wanted.get(name, 0.0)
    return Candidate(name, (x0, y0, x1, y1), blocks, treatments, (x0, top), x1 - x0, scores, round(score, 4))
