"""Lettering a picture the typeset engine did not paint: a neural model's output.

Neural models misspell the text a prompt quotes. `letter_picture` sets the quotes with
the typeset engine's own planner on the finished picture: it reads the picture for its
palette and for where its detail gathers (the nearest thing it has to a subject), fits
the quotes into every region (`layout.candidate`: largest size that fits, lines broken
between words, glyph fallback), scores each on what is really painted there (contrast,
calm, clearance of the detail) and letters the best, adding an outline or a plate until
the WCAG contrast against those pixels is reached. `prompt_for_picture` is the prompt a
model gets instead: the quotes replaced by a request for clear space, so it does not
paint gibberish where the real text goes.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageFilter

from generations.engines.typeset.layout import REGIONS, Candidate, candidate
from generations.engines.typeset.paint import RGB, Palette, Scene, mix, rgb_hex
from generations.engines.typeset.prompt import find_quotes, read_prompt
from generations.engines.typeset.text import Block, Treatment, draw_blocks, luminance

# What stands in for each quote in the prompt sent to the model, and what is asked after it.
CLEAR_SPACE = "(left blank)"
# Short, so that it survives a text encoder that reads only 77 tokens (CLIP's).
CLEAR_SPACE_NOTE = "No text, letters or writing; plain space left for a title."
DETAIL_SIDE = 96  # the picture is read for detail at about this many pixels a side
PALETTE_COLOURS = 6
INK: RGB = (14, 14, 18)


def prompt_for_picture(prompt: str) -> str:
    """`prompt` with each quote (marks included) replaced by a request for blank space, and a
    closing note asking for room and no lettering; `prompt` itself when it quotes nothing."""
    quotes = find_quotes(prompt)
    if not quotes:
        return prompt
    parts, last = [], 0
    for q in quotes:
        parts += [prompt[last : q.start], CLEAR_SPACE]
        last = q.end
    parts.append(prompt[last:])
    cleared = "".join(parts).strip()
    return f"{cleared}{'' if cleared.endswith(('.', '!', '?')) else '.'} {CLEAR_SPACE_NOTE}"


def picture_palette(image: Image.Image) -> Palette:
    """The picture's own colours by role: its darkest as `near` (outlines, shadows, plates),
    its lightest as `light`, its most saturated as accents."""
    small = image.convert("RGB").resize((48, 48), Image.Resampling.BILINEAR)
    quantized = small.quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
    flat = quantized.getpalette() or []
    used = sorted({i for _, i in quantized.getcolors() or [] if isinstance(i, int)})  # "P": palette indices
    colours: list[RGB] = [(flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]) for i in used] or [(128, 128, 128)]
    by_light = sorted(colours, key=luminance)

    def saturation(c: RGB) -> float:
        return colorsys.rgb_to_hls(*(v / 255 for v in c))[2]

    vivid = (sorted(colours, key=saturation, reverse=True) * 3)[:3]  # a flat picture has one colour
    return Palette(
        sky=by_light[::-1],
        accent=vivid[0],
        accent2=vivid[1],
        accent3=vivid[2],
        far=by_light[len(by_light) // 2],
        # Dark lettering is a deep shade of `near`: a picture with no dark colour gets a near-black one.
        near=by_light[0] if luminance(by_light[0]) < 0.1 else mix(by_light[0], INK, 0.6),
        light=by_light[-1],
    )


def detail_box(image: Image.Image) -> list[int] | None:
    """Where the picture's detail gathers: one standard deviation around the centre of its
    edge energy, in image pixels; None for a picture with no detail at all."""
    w, h = image.size
    scale = DETAIL_SIDE / max(w, h)
    small = image.convert("L").resize((max(8, round(w * scale)), max(8, round(h * scale))), Image.Resampling.BILINEAR)
    edges = small.filter(ImageFilter.FIND_EDGES)
    sw, sh = edges.size
    values = list(edges.tobytes())
    # One pixel in from each border: FIND_EDGES leaves the border as it was.
    weights = [(i % sw, i // sw, v) for i, v in enumerate(values) if 0 < i % sw < sw - 1 and 0 < i // sw < sh - 1]
    total = sum(v for _, _, v in weights)
    if not total:
        return None
    mx = sum(x * v for x, _, v in weights) / total
    my = sum(y * v for _, y, v in weights) / total
    sx = (sum((x - mx) ** 2 * v for x, _, v in weights) / total) ** 0.5
    sy = (sum((y - my) ** 2 * v for _, y, v in weights) / total) ** 0.5
    return [
        max(0, round((mx - sx) * w / sw)),
        max(0, round((my - sy) * h / sh)),
        min(w, round((mx + sx + 1) * w / sw)),
        min(h, round((my + sy + 1) * h / sh)),
    ]


@dataclass
class Lettering:
    """What was lettered onto the picture: one entry per block (as the typeset engine's
    `text_boxes`), the region chosen, and every candidate tried."""

    blocks: list[dict[str, Any]]
    region: str
    subject_box: list[int] | None
    candidates: list[dict[str, Any]] = field(default_factory=list)


def block_entry(block: Block, treat: Treatment, box: list[int], check: dict[str, Any]) -> dict[str, Any]:
    """What the plan records about one lettered block: its exact text, lines, box, fonts and contrast."""
    runs = block.runs()
    drew: dict[str, int] = {}
    for run, name in runs:
        drew[name] = drew.get(name, 0) + len(run.strip())
    entry = {
        "text": block.quote.text,
        "box": box,
        "color": rgb_hex(treat.fill),
        "font": max(drew, key=lambda name: drew[name]),  # the font that drew most of it
        "runs": runs,
        "size": block.size,
        "lines": block.lines,
        **check,
    }
    if block.broken:
        entry["hyphenated"] = block.hyphenated
    return entry


def plan_lettering(image: Image.Image, prompt: str, preset: str) -> tuple[Candidate, list[Candidate], Scene] | None:
    """The best placement of `prompt`'s quotes on `image` and every one tried; None when it quotes nothing."""
    reading = read_prompt(prompt)
    if not reading.quotes:
        return None
    scene = Scene(subject_box=detail_box(image))
    palette = picture_palette(image)
    # An explicit "text at the top" outweighs everything else, as in the typeset engine.
    wanted = {reading.text_position: 0.5} if reading.text_position else {}
    tried = [candidate(image, name, reading.quotes, preset, palette, scene, wanted) for name in REGIONS]
    return max(tried, key=lambda c: c.score), tried, scene  # the first of equals: deterministic


def letter_picture(image: Image.Image, prompt: str, preset: str = "auto") -> Lettering | None:
    """Letter `prompt`'s quoted text exactly onto `image` (in place) where it reads best; None
    when the prompt quotes nothing. Pixels outside the returned boxes are left as they were."""
    planned = plan_lettering(image, prompt, preset)
    if planned is None:
        return None
    best, tried, scene = planned
    boxes = draw_blocks(image, best.blocks, best.treatments, best.origin, best.width)
    blocks = [
        block_entry(block, treat, box, check)
        for block, treat, box, check in zip(best.blocks, best.treatments, boxes, best.checks, strict=True)
    ]
    return Lettering(blocks, best.name, scene.subject_box, [c.summary() for c in tried])
