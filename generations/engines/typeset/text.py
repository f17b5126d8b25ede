"""Setting the typeset engine's quoted text in type: fonts, fitting and lettering.

Fonts come only from the `fonts/` folder beside this module, so output never depends on
what the machine happens to have installed. Each character is drawn
with the first font of a fallback chain that has it (`glyphs`), so Latin, CJK, Arabic and
the rest mix in one line. Text is fitted at the largest size that fits its box, wrapping
only between words or CJK characters (`breaks`; a word is hyphenated only when it is
wider than the line at the smallest size allowed, so nothing is ever clipped), and drawn
with a stroke, shadow or plate so it stands out from what is beneath it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from generations.engines.typeset import breaks, glyphs
from generations.engines.typeset.glyphs import FONT_DIR
from generations.engines.typeset.prompt import Quote

RGB = tuple[int, int, int]

HEADLINE_FONT = "Lato-Black.ttf"  # bold / heavy display sans
TEXT_FONT = "Lato-Bold.ttf"  # the default weight for lettering
SLAB_FONT = "RobotoSlab-Bold.otf"  # vintage and painterly styles
FALLBACK_FONT = glyphs.FALLBACK_CHAIN[0]  # widest Latin-and-symbols coverage; CJK and others follow it


# --- fonts -------------------------------------------------------------------------


@lru_cache(maxsize=256)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A font from the engine's own folder, at a pixel size (a bounded per-process cache)."""
    return ImageFont.truetype(str(FONT_DIR / name), size)


def font_for(text: str, preferred: str) -> str:
    """The face that sets `text`: `preferred`, or the wide fallback when it lacks a character
    the fallback has. Scripts neither has are drawn from the fallback chain (`glyphs.runs`)."""
    return glyphs.base_font(text, preferred)


def fonts_used(text: str, base: str) -> list[str]:
    """Every font that draws a part of `text` set in `base`, in order of first use."""
    return list(dict.fromkeys(name for _, name in glyphs.runs(text, base)))


# --- fitting -----------------------------------------------------------------------

LINE_SPACING = 1.08  # line pitch as a multiple of the font size
CJK_LINE_SPACING = 1.3  # ideographs fill their em square: lines of them need more air
SUB_RATIO = 0.42  # a second quote is set at this fraction of the headline size
SMALLEST = 6  # pixels; below this even a fitted text would be a smudge


@dataclass
class Block:
    """One quote, wrapped and sized: lines are exactly the quote's words, in order."""

    quote: Quote
    font_name: str  # the base face; `glyphs.runs` says which font draws each character
    size: int
    lines: list[str]
    width: int = 0
    height: int = 0
    broken: bool = False  # a word wider than the line even at the smallest size was hyphenated
    hyphenated: list[str] = field(default_factory=list)  # those words
    pitch: int = 0  # baseline to baseline
    ascent: int = 0  # the tallest font's, so every line shares one baseline grid

    def runs(self) -> list[list[str]]:
        """(text, font file without extension) for every run of the quote: what drew what."""
        return [[t, name.rsplit(".", 1)[0]] for t, name in glyphs.runs(self.quote.text, self.font_name)]


@lru_cache(maxsize=65536)
def text_width(font_name: str, size: int, text: str) -> float:
    """The advance width of `text` set from `font_name` with fallbacks (cached: fitting asks often)."""
    return sum(font(name, size).getlength(run) for run, name in glyphs.runs(text, font_name))


def _measure(quote: Quote, font_name: str, size: int, width: float, stroke: float, breakable: frozenset) -> Block:
    pad = 2 * round(stroke * size)
    avail = max(1.0, width - pad)

    def measure(t: str) -> float:
        return text_width(font_name, size, t)

    lines = breaks.balanced_wrap(quote.text, measure, avail, breakable)
    line_w = max(measure(line) for line in lines) + pad
    metrics = [font(name, size).getmetrics() for name in fonts_used(quote.text, font_name)]
    ascent, descent = max(m[0] for m in metrics), max(m[1] for m in metrics)
    cjk = any(breaks.is_cjk(ch) for ch in quote.text)
    pitch = round(size * (CJK_LINE_SPACING if cjk else LINE_SPACING))
    height = (len(lines) - 1) * pitch + ascent + descent + pad
    hyphenated = sorted(w for w in breakable if w in quote.text and not any(w in line for line in lines))
    return Block(quote, font_name, size, lines, round(line_w), height, bool(hyphenated), hyphenated, pitch, ascent)


def fit_blocks(
    quotes: list[Quote],
    fonts: list[str],
    box_w: float,
    box_h: float,
    max_size: int,
    stroke: float,
    min_sub: int = SMALLEST,
    min_size: int = SMALLEST,
) -> list[Block]:
    """The largest sizes (headline first, others smaller) at which every quote fits the box.

    Later quotes are set at SUB_RATIO of the headline, but not below `min_sub` (unless the
    headline itself is smaller). Binary search over the headline size; each size is
    wrapped and measured for real, so what fits here is what gets drawn. Lines break only
    between words (or CJK characters): the size shrinks first. Only a word wider than the
    line even at `min_size` may be hyphenated, and only when that gives a larger size than
    keeping it whole. Text that would need less than the smallest size is set at that size
    anyway (and `draw_blocks` still keeps it inside the image).
    """

    def layout(size: int, breakable: frozenset) -> tuple[list[Block], bool]:
        blocks = []
        for n, (q, name) in enumerate(zip(quotes, fonts, strict=True)):
            s = size if n == 0 else max(SMALLEST, round(size * SUB_RATIO), min(size, min_sub))
            blocks.append(_measure(q, name, s, box_w, stroke, breakable))
        total = sum(b.height for b in blocks) + block_gap(blocks) * (len(blocks) - 1)
        return blocks, total <= box_h and all(b.width <= box_w for b in blocks)

    def largest(breakable: frozenset) -> list[Block] | None:
        lo, hi = SMALLEST, max(SMALLEST + 1, max_size)
        best, ok = layout(lo, breakable)
        if not ok:
            return None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            blocks, ok = layout(mid, breakable)
            if ok:
                lo, best = mid, blocks
            else:
                hi = mid - 1
        return best

    whole = largest(frozenset())
    if whole is not None and whole[0].size >= min_size:
        return whole
    # Words too wide for the line at the smallest size the layout allows may be hyphenated.
    breakable = frozenset(
        piece
        for q, name in zip(quotes, fonts, strict=True)
        for para in q.text.split("\n")
        for piece, _ in breaks.pieces(para)
        if text_width(name, min_size, piece) + 2 * round(stroke * min_size) > box_w
    )
    split = largest(breakable) if breakable else None
    if split is not None and (whole is None or split[0].size > whole[0].size):
        return split
    return whole or split or layout(SMALLEST, breakable)[0]


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
        stroke = round(treat.stroke_ratio * b.size)
        pieces: list[tuple[float, int, str, ImageFont.FreeTypeFont]] = []  # (x, baseline, text, font)
        for k, line in enumerate(b.lines):
            baseline = y + stroke + b.ascent + k * b.pitch
            line_w = text_width(b.font_name, b.size, line)
            if align == "left":
                x = float(x0 + stroke)
            elif align == "right":
                x = x0 + width - stroke - line_w
            else:
                x = x0 + (width - line_w) / 2
            line_runs = glyphs.runs(line, b.font_name)
            if glyphs.is_rtl(line):  # runs of a right-to-left line read from the right
                line_runs.reverse()
            for run, name in line_runs:
                f = font(name, b.size)
                pieces.append((round(x), baseline, run, f))
                x += f.getlength(run)
        y += b.height + block_gap(blocks)
        ink = [draw.textbbox((px, py), t, font=f, anchor="ls", stroke_width=stroke) for px, py, t, f in pieces]
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
            for px, py, t, f in pieces:
                md.text((px + dx + off, py + dy + off), t, font=f, anchor="ls", fill=255, stroke_width=stroke)
            if blur:
                mask = mask.filter(ImageFilter.GaussianBlur(blur))
            crop.paste(treat.shadow, (0, 0), mask)
        cd = ImageDraw.Draw(crop)
        for px, py, t, f in pieces:
            cd.text(
                (px + dx, py + dy),
                t,
                font=f,
                anchor="ls",
                fill=treat.fill,
                stroke_width=stroke,
                stroke_fill=treat.stroke,
            )
        img.paste(crop, area[:2])
        boxes.append(list(area))
    return boxes
