"""Setting the typeset engine's quoted text in type: fonts, fitting and lettering.

Fonts come only from the `fonts/` folder beside this module, so output never depends on
what the machine happens to have installed. Text is fitted at the largest size that fits
its box (wrapping, and breaking words wider than a line, so nothing is ever clipped) and
drawn with a stroke, shadow or plate so it stands out from what is beneath it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from generations.engines.typeset.prompt import Quote

RGB = tuple[int, int, int]

FONT_DIR = Path(__file__).resolve().with_name("fonts")
HEADLINE_FONT = "Lato-Black.ttf"  # bold / heavy display sans
TEXT_FONT = "Lato-Bold.ttf"  # the default weight for lettering
SLAB_FONT = "RobotoSlab-Bold.otf"  # vintage and painterly styles
FALLBACK_FONT = "DejaVuSans-Bold.ttf"  # widest Unicode coverage, for text the others cannot set


# --- fonts -------------------------------------------------------------------------


@lru_cache(maxsize=256)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A font from the engine's own folder, at a pixel size (a bounded per-process cache)."""
    return ImageFont.truetype(str(FONT_DIR / name), size)


@cache
def _missing_glyph(name: str) -> bytes:
    return bytes(font(name, 32).getmask("\U0010fffd"))


@lru_cache(maxsize=8192)
def _has_glyph(name: str, ch: str) -> bool:
    if ch.isspace():
        return True
    return bytes(font(name, 32).getmask(ch)) != _missing_glyph(name)


def font_for(text: str, preferred: str) -> str:
    """`preferred` when it has a glyph for every character of `text`, else the wide fallback."""
    if all(_has_glyph(preferred, ch) for ch in set(text)):
        return preferred
    return FALLBACK_FONT


# --- fitting -----------------------------------------------------------------------

LINE_SPACING = 1.08  # line pitch as a multiple of the font size
SUB_RATIO = 0.42  # a second quote is set at this fraction of the headline size
SMALLEST = 6  # pixels; below this even a fitted text would be a smudge


@dataclass
class Block:
    """One quote, wrapped and sized: lines are exactly the quote's words, in order."""

    quote: Quote
    font_name: str
    size: int
    lines: list[str]
    width: int = 0
    height: int = 0
    broken: bool = False  # a word wider than the line had to be split


@lru_cache(maxsize=65536)
def text_width(font_name: str, size: int, text: str) -> float:
    """The advance width of `text` set in a font at a size (cached: fitting asks often)."""
    return font(font_name, size).getlength(text)


def _wrap(text: str, font_name: str, size: int, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is broken between characters.

    Words are measured once each and added up with the width of a space, which is what
    makes fitting a thousand-character quote cheap; `_measure` then measures the finished
    lines for real, so a line that kerning made wider can never slip through.
    """
    space = text_width(font_name, size, " ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_w = "", 0.0
        for word in paragraph.split(" "):
            word_w = text_width(font_name, size, word)
            if line and line_w + space + word_w <= width:
                line, line_w = f"{line} {word}", line_w + space + word_w
                continue
            if line:
                lines.append(line)
            while word_w > width and len(word) > 1:
                cut = 1
                while cut < len(word) and text_width(font_name, size, word[: cut + 1]) <= width:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
                word_w = text_width(font_name, size, word)
            line, line_w = word, word_w
        lines.append(line)
    return lines


def _balanced_wrap(text: str, font_name: str, size: int, width: float) -> list[str]:
    """The greedy wrap's line count, with lines as even as possible (nicer headlines)."""
    lines = _wrap(text, font_name, size, width)
    if not 2 <= len(lines) <= 4:
        return lines
    lo, hi = width * 0.4, width
    for _ in range(7):
        mid = (lo + hi) / 2
        if len(_wrap(text, font_name, size, mid)) == len(lines):
            hi = mid
        else:
            lo = mid
    return _wrap(text, font_name, size, hi)


def _measure(quote: Quote, font_name: str, size: int, width: float, stroke: float) -> Block:
    pad = 2 * round(stroke * size)
    avail = max(1.0, width - pad)
    lines = _balanced_wrap(quote.text, font_name, size, avail)
    line_w = max(text_width(font_name, size, line) for line in lines) + pad
    ascent, descent = font(font_name, size).getmetrics()
    height = round((len(lines) - 1) * size * LINE_SPACING + ascent + descent) + pad
    broken = any(text_width(font_name, size, word) > avail for word in quote.text.split())
    return Block(quote, font_name, size, lines, round(line_w), height, broken)


def fit_blocks(
    quotes: list[Quote],
    fonts: list[str],
    box_w: float,
    box_h: float,
    max_size: int,
    stroke: float,
    min_sub: int = SMALLEST,
) -> list[Block]:
    """The largest sizes (headline first, others smaller) at which every quote fits the box.

    Later quotes are set at SUB_RATIO of the headline, but not below `min_sub` (unless the
    headline itself is smaller). Binary search over the headline size; each size is wrapped and measured for real, so
    what fits here is what gets drawn. Sizes that would split a word are passed over
    while any size keeps words whole. Text that would need less than the smallest size
    is set at that size anyway (and `draw_blocks` still keeps it inside the image).
    """

    def layout(size: int, allow_breaks: bool) -> tuple[list[Block], bool]:
        blocks = []
        for n, (q, name) in enumerate(zip(quotes, fonts, strict=True)):
            s = size if n == 0 else max(SMALLEST, round(size * SUB_RATIO), min(size, min_sub))
            blocks.append(_measure(q, name, s, box_w, stroke))
        total = sum(b.height for b in blocks) + block_gap(blocks) * (len(blocks) - 1)
        fits = total <= box_h and all(b.width <= box_w for b in blocks)
        return blocks, fits and (allow_breaks or not any(b.broken for b in blocks))

    # Words are split only when no size keeps them whole: "TIPS", never "TIP" / "S".
    for allow_breaks in (False, True):
        lo, hi = SMALLEST, max(SMALLEST + 1, max_size)
        best, ok = layout(lo, allow_breaks)
        if not ok and not allow_breaks:
            continue
        while lo < hi:
            mid = (lo + hi + 1) // 2
            blocks, ok = layout(mid, allow_breaks)
            if ok:
                lo, best = mid, blocks
            else:
                hi = mid - 1
        return best
    return best


def block_gap(blocks: list[Block]) -> int:
    """The space between stacked quotes: a fraction of the headline size."""
    return round(0.35 * blocks[0].size) if blocks else 0


# --- colour and lettering ----------------------------------------------------------


def luminance(rgb: tuple[float, ...]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb[:3]
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass
class Treatment:
    """How lettering is made to stand out: stroke, shadow and an optional plate behind."""

    fill: RGB
    stroke: RGB
    stroke_ratio: float  # stroke width as a fraction of the font size
    shadow: RGB | None = None
    shadow_offset: float = 0.06  # fraction of the font size
    shadow_blur: float = 0.05  # fraction of the font size; 0 = a hard offset shadow
    plate: tuple[int, int, int, int] | None = None  # RGBA


def draw_blocks(
    img: Image.Image,
    blocks: list[Block],
    treatments: list[Treatment],
    origin: tuple[int, int],
    width: int,
    align: str = "center",
) -> list[list[int]]:
    """Letter `blocks` stacked down from `origin` within `width`; returns each block's box.

    Each box covers every pixel its lettering touched (glyphs, stroke, shadow, plate), in
    image pixels, clamped to the image. Work happens on a crop around the text, so the
    rest of the image is left byte for byte as it was.
    """
    x0, y = origin
    draw = ImageDraw.Draw(img)
    boxes = []
    for b, treat in zip(blocks, treatments, strict=True):
        f = font(b.font_name, b.size)
        stroke = round(treat.stroke_ratio * b.size)
        lines = []
        for k, line in enumerate(b.lines):
            ly = y + stroke + round(k * b.size * LINE_SPACING)
            if align == "left":
                lines.append((x0 + stroke, ly, "la", line))
            elif align == "right":
                lines.append((x0 + width - stroke, ly, "ra", line))
            else:
                lines.append((x0 + width // 2, ly, "ma", line))
        y += b.height + block_gap(blocks)
        ink = [draw.textbbox((lx, ly), t, font=f, anchor=a, stroke_width=stroke) for lx, ly, a, t in lines]
        # Pillow types bounding boxes as floats; with whole-pixel anchors they are whole pixels.
        box = [
            int(v)
            for v in (min(i[0] for i in ink), min(i[1] for i in ink), max(i[2] for i in ink), max(i[3] for i in ink))
        ]
        off = round(treat.shadow_offset * b.size) if treat.shadow else 0
        blur = round(treat.shadow_blur * b.size) if treat.shadow else 0
        pad = round(0.28 * b.size) if treat.plate else 0
        grow = max(pad, off + 3 * blur) + 1
        area = (
            min(max(0, box[0] - grow), img.width - 1),
            min(max(0, box[1] - grow), img.height - 1),
            max(1, min(img.width, box[2] + grow)),
            max(1, min(img.height, box[3] + grow)),
        )
        area = (area[0], area[1], max(area[0] + 1, area[2]), max(area[1] + 1, area[3]))
        crop = img.crop(area)
        dx, dy = -area[0], -area[1]
        if treat.plate:
            plate = Image.new("L", crop.size, 0)
            plate_box = (box[0] - pad + dx, box[1] - pad + dy, box[2] + pad + dx, box[3] + pad + dy)
            ImageDraw.Draw(plate).rounded_rectangle(plate_box, radius=max(2, pad), fill=treat.plate[3])
            crop.paste(treat.plate[:3], (0, 0), plate)
        if treat.shadow:
            mask = Image.new("L", crop.size, 0)
            md = ImageDraw.Draw(mask)
            for lx, ly, a, t in lines:
                md.text((lx + dx + off, ly + dy + off), t, font=f, anchor=a, fill=255, stroke_width=stroke)
            if blur:
                mask = mask.filter(ImageFilter.GaussianBlur(blur))
            crop.paste(treat.shadow, (0, 0), mask)
        cd = ImageDraw.Draw(crop)
        for lx, ly, a, t in lines:
            cd.text(
                (lx + dx, ly + dy), t, font=f, anchor=a, fill=treat.fill, stroke_width=stroke, stroke_fill=treat.stroke
            )
        img.paste(crop, area[:2])
        boxes.append(list(area))
    return boxes
