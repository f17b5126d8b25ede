"""Where the typeset engine puts lettering, and how it makes it stand out.

A candidate is one region of the image (a band at the top, the centre, a column...) with
the quotes fitted into it at the largest size that fits. Scoring looks at what is
actually painted under the fitted text: the WCAG contrast between the text colour and
the darkest and lightest tenth of what is there (the worse of the two counts), how busy
it is (luminance spread), whether it covers the scene's subject, and whether it is where
the prompt or the scene suggests. Deep thinking scores every region and keeps the best;
the cheap path fits the suggested region, and looks at the others only when that one is
crowded.

Within a region the text never crosses a busy motif the painters noted (the moon, the
sun, discs, rings, dot grids, wavy lines: `Scene.busy`), and keeps a margin from them and
from the edges. Each block must reach a WCAG contrast against what is really beneath it
(3 for a large headline, 4.5 for the rest): when the ground alone does not give it, an
outline and then a plate are added, and the plan records the contrast reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageStat

from generations.engines.typeset.breaks import is_cjk
from generations.engines.typeset.paint import RGB, Palette, Scene, mix, shade
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
WEIGHTS = {"fit": 0.4, "contrast": 0.2, "calm": 0.15, "clear": 0.25}  # contrast is also made up by treatment


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
    checks: list[dict[str, Any]] = field(default_factory=list)  # per block: contrast reached, needed, treatment

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


HEADLINE_CONTRAST = 3.0  # WCAG AA for large text
BODY_CONTRAST = 4.5  # WCAG AA for body text
LARGE_TEXT = 32  # pixels: a headline at least this big counts as large text
KEEP_CLEAR = 0.025  # space kept around busy motifs, as a fraction of the short side


def needed_contrast(index: int, size: int) -> float:
    """The contrast a block must reach: 3 for a large headline, 4.5 for anything else."""
    return HEADLINE_CONTRAST if index == 0 and size >= LARGE_TEXT else BODY_CONTRAST


def effective_contrast(treat: Treatment, ground: Ground, size: int) -> float:
    """The contrast each letter really has: against the plate blended over the ground when
    there is one, else the ground; an outline of two pixels or more borders every stroke."""
    ratio = ground.legibility(treat.fill)
    if treat.plate:
        a = treat.plate[3] / 255
        plate: RGB = treat.plate[:3]
        ratio = min(contrast(treat.fill, mix(g, plate, a)) for g in (ground.dark, ground.light))
    if treat.stroke_ratio * size >= 1.5:
        ratio = max(ratio, contrast(treat.fill, treat.stroke))
    return ratio


def ensure_contrast(treat: Treatment, ground: Ground, size: int, needed: float, preset: str) -> list[str]:
    """Add an outline, then a plate, until `treat` reaches `needed`; what it now uses."""
    if effective_contrast(treat, ground, size) < needed and preset not in ("minimalist", "watercolor"):
        treat.stroke = max(((12, 12, 16), WHITE), key=lambda c: contrast(treat.fill, c))
        treat.stroke_ratio = max(treat.stroke_ratio, 0.06, 2 / max(1, size))
    if effective_contrast(treat, ground, size) < needed:
        backing = max(((12, 12, 16), (250, 247, 240)), key=lambda c: contrast(treat.fill, c))
        for alpha in (200, 235, 255):
            treat.plate = (*backing, alpha)
            if effective_contrast(treat, ground, size) >= needed:
                break
    used = ["outline"] if treat.stroke_ratio * size >= 1.5 else []
    return used + (["shadow"] if treat.shadow else []) + (["plate"] if treat.plate else [])


def _overlaps(a: tuple[int, int, int, int] | list[int], b: tuple[int, int, int, int] | list[int]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def free_boxes(
    box: tuple[int, int, int, int], busy: list[list[int]], w: int, h: int
) -> list[tuple[int, int, int, int]]:
    """The parts of `box` that keep clear of every busy motif: full-width bands between
    them, and full-height columns beside them (the whole box when nothing is in the way)."""
    x0, y0, x1, y1 = box
    pad = round(KEEP_CLEAR * min(w, h))
    grown = [(bx0 - pad, by0 - pad, bx1 + pad, by1 + pad) for bx0, by0, bx1, by1 in busy]
    inside = [g for g in grown if _overlaps(g, box)]
    if not inside:
        return [box]
    out: list[tuple[int, int, int, int]] = []
    for lo_key, hi_key, span in ((1, 3, (y0, y1)), (0, 2, (x0, x1))):
        edges = sorted((g[lo_key], g[hi_key]) for g in inside)
        start = span[0]
        for lo, hi in [*edges, (span[1], span[1])]:
            if lo > start:
                part = (x0, start, x1, min(lo, y1)) if lo_key == 1 else (start, y0, min(lo, x1), y1)
                if part[2] - part[0] >= 0.22 * w and part[3] - part[1] >= 0.07 * h:
                    out.append(part)
            start = max(start, hi)
    return [p for p in out if not any(_overlaps(g, p) for g in inside)]


def _fit_clear(
    quotes: list[Quote], fonts: list[str], box: tuple[int, int, int, int], max_size: int, stroke: float, w: int, h: int
) -> list[Block]:
    """Fit the quotes into `box`, inset so that outline, shadow or plate stay inside it too."""
    m = min(w, h)
    x0, y0, x1, y1 = box
    blocks = fit_blocks(quotes, fonts, x1 - x0, y1 - y0, max_size, stroke, round(0.03 * m), round(0.035 * m))
    inset = round(0.22 * blocks[0].size) + 1  # shadow offset and blur; a plate may reach into KEEP_CLEAR
    if x1 - x0 > 2 * inset and y1 - y0 > 2 * inset:
        blocks = fit_blocks(
            quotes, fonts, x1 - x0 - 2 * inset, y1 - y0 - 2 * inset, max_size, stroke, round(0.03 * m), round(0.035 * m)
        )
    return blocks


def _shape(block: Block) -> float:
    """1 for a headline that reads well; less for a column of CJK or a lone last character."""
    lines = block.lines
    factor = 1.0
    if len(lines) > 2 and any(is_cjk(ch) for ch in block.quote.text) and len(block.quote.text) <= 16:
        factor *= 0.7  # a short CJK phrase stacked two characters a line reads as a list
    if len(lines) > 1 and len(lines[-1]) == 1:
        factor *= 0.8  # an orphan
    return factor


def candidate(
    image: Image.Image, name: str, quotes: list[Quote], preset: str, palette: Palette, scene: Scene, wanted: dict
) -> Candidate:
    """Fit the quotes into one region, clear of busy motifs; look at what is beneath; score it.

    Within the region the text goes into the largest part that keeps clear of the moon,
    the sun, discs and wavy lines (`free_boxes`); when none is big enough it goes into the
    whole region, and the score says so. `wanted` maps region names to a bonus: where the
    prompt asked for the text, or where the scene leaves room for it.
    """
    w, h = image.size
    x0, y0, x1, y1 = region(name, w, h)
    quotes = _blocks_of(quotes)
    headline = SLAB_FONT if preset in ("retro", "oil-painting") else TEXT_FONT
    fonts = [font_for(q.text, HEADLINE_FONT if q.bold and headline == TEXT_FONT else headline) for q in quotes]
    max_size = round(min(w, h) * (0.2 if preset != "minimalist" else 0.12))
    stroke = max(STROKE.get(preset, 0.0), 0.06)
    busy = [b for _, b in scene.busy]
    parts = free_boxes((x0, y0, x1, y1), busy, w, h) or [(x0, y0, x1, y1)]
    fitted = [(_fit_clear(quotes, fonts, p, max_size, stroke, w, h), p) for p in parts]
    blocks, (bx0, by0, bx1, by1) = max(fitted, key=lambda f: (f[0][0].size, (f[1][2] - f[1][0]) * (f[1][3] - f[1][1])))
    total = sum(b.height for b in blocks) + block_gap(blocks) * (len(blocks) - 1)
    widest = max(b.width for b in blocks)
    top = by0 + (by1 - by0 - total) // 2
    ink = (bx0 + (bx1 - bx0 - widest) // 2, top, bx0 + (bx1 - bx0 + widest) // 2, top + total)

    ground = Ground.of(image.crop(ink))
    fill = _fill_for(ground, quotes[0].color, preset, palette)
    treatments = [
        _treatment(b.quote.color, ground, preset, palette)
        if n and b.quote.color
        else _treatment(fill, ground, preset, palette)
        for n, b in enumerate(blocks)
    ]
    checks = []
    for n, (b, treat) in enumerate(zip(blocks, treatments, strict=True)):
        needed = needed_contrast(n, b.size)
        used = ensure_contrast(treat, ground, b.size, needed, preset)
        checks.append(
            {
                "contrast": round(effective_contrast(treat, ground, b.size), 2),
                "contrast_ground": round(ground.legibility(treat.fill), 2),
                "contrast_min": needed,
                "treatment": used,
            }
        )
    overlap = 0.0
    if scene.subject_box:
        sx0, sy0, sx1, sy1 = scene.subject_box
        ow = max(0, min(ink[2], sx1) - max(ink[0], sx0))
        oh = max(0, min(ink[3], sy1) - max(ink[1], sy0))
        overlap = ow * oh / max(1, (ink[2] - ink[0]) * (ink[3] - ink[1]))
    if any(_overlaps(ink, b) for b in busy):
        overlap = 1.0  # no part of this region keeps clear of the motifs: any other place is better
    scores = {
        "fit": round(min(1.0, blocks[0].size / (0.15 * min(w, h))) * _shape(blocks[0]), 4),
        "contrast": round(min(1.0, (ground.legibility(fill) - 1) / 6), 4),
        "calm": round(1 - min(1.0, ground.busy / 70), 4),
        "clear": round(1 - overlap, 4),
    }
    # A wished-for place that a motif crowds into a corner counts for less.
    share = (bx1 - bx0) * (by1 - by0) / max(1, (x1 - x0) * (y1 - y0))
    bonus = round(wanted.get(name, 0.0) * share, 4)
    score = sum(WEIGHTS[k] * v for k, v in scores.items()) + bonus
    scores["wanted"] = bonus
    box = (bx0, by0, bx1, by1)
    return Candidate(name, box, blocks, treatments, (bx0, top), bx1 - bx0, scores, round(score, 4), checks)
