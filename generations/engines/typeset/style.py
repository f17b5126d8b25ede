"""The typeset engine's eight style presets: palette grades, painter knobs and finishes.

A preset acts in three places: it grades the scene palette (muted for minimalist, warm
and faded for retro...), it turns knobs on the painters (`Look`: detail, cel clouds, a
striped sun, depth of field) and it finishes the painted image (grain, paper, brush
strokes, outlines, halftone). Finishes are whole-image Pillow operations; the textures
come from the seeded `random.Random`, never from Pillow's own unseeded noise.
"""

from __future__ import annotations

import math
import random
import re
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

from generations.engines.typeset.paint import RGB, Look, Palette, mix, shade
from generations.specs import STYLE_KEYWORDS

PAPER = (250, 245, 233)

LOOKS: dict[str, Look] = {
    "photorealistic": Look(far_blur=5.0, mid_blur=1.6),
    "digital-art": Look(),
    "watercolor": Look(detail=0.8),
    "oil-painting": Look(),
    "anime": Look(cel=True),
    "minimalist": Look(detail=0.3),
    "retro": Look(striped_sun=True, burst=True),
}

_GRADES = {
    "digital-art": lambda c: shade(c, 1.0, 1.2),
    "watercolor": lambda c: shade(mix(c, PAPER, 0.12), 1.0, 0.9),
    "oil-painting": lambda c: shade(c, 0.96, 1.15),
    "anime": lambda c: shade(c, 1.04, 1.25),
    "minimalist": lambda c: mix(shade(c, 1.0, 0.5), (238, 234, 226), 0.18),
    "retro": lambda c: shade(mix(c, (236, 190, 140), 0.2), 1.0, 0.85),
}


def auto_preset(scene_text: str, motifs: list[str], rng: random.Random) -> str:
    """The preset `auto` stands for: named by the prompt's words, else suited to the motifs."""
    for preset, words in STYLE_KEYWORDS.items():
        if any(re.search(rf"\b{re.escape(word)}\b", scene_text) for word in words):
            return preset
    if re.search(r"\b(professional|product|portrait|headshot|landscape|serene)\b", scene_text):
        return "photorealistic"
    if {"burst", "emblem"} & set(motifs) or "city" in motifs:
        return "digital-art"
    if "flower" in motifs:
        return "watercolor"
    if {"mountains", "ocean", "forest", "hills", "sunset", "desert"} & set(motifs):
        return rng.choice(("photorealistic", "watercolor", "oil-painting"))
    if "person" in motifs or "cup" in motifs:
        return "photorealistic"
    return rng.choice(("digital-art", "minimalist", "retro"))


def grade(pal: Palette, preset: str) -> Palette:
    """The palette in the preset's colours; a palette the user asked for is left as given."""
    fn = _GRADES.get(preset)
    return pal if pal.from_user or fn is None else pal.graded(fn)


# --- textures ----------------------------------------------------------------------


def _noise(size: tuple[int, int], rng: random.Random) -> Image.Image:
    return Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))


def _value_noise(size: tuple[int, int], rng: random.Random, cell: int) -> Image.Image:
    """Smooth random blotches about `cell` pixels across (0..255)."""
    small = _noise((size[0] // cell + 2, size[1] // cell + 2), rng)
    return small.resize(size, Image.Resampling.BICUBIC)


def _grain(img: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    n = _noise(img.size, rng).point(lambda v: round(128 + (v - 128) * amount / 128))
    return ImageChops.add(img, Image.merge("RGB", (n, n, n)), 1.0, -128)


def _blur(img: Image.Image, radius: float) -> Image.Image:
    """A Gaussian blur computed at a quarter size: wide blurs at a fraction of the cost."""
    small = img.reduce(4).filter(ImageFilter.GaussianBlur(radius / 4))
    return small.resize(img.size, Image.Resampling.BILINEAR)  # bicubic adds nothing to a blur


@lru_cache(maxsize=32)
def _vignette_mask(size: tuple[int, int], strength: float) -> Image.Image:
    """The darkening towards the corners (the same for every image of a size: made once)."""
    lut = [round(255 * strength * max(0.0, (v / 255 - 0.42) / 0.58) ** 1.5) for v in range(256)]
    return Image.radial_gradient("L").point(lut).resize(size, Image.Resampling.BILINEAR)


def _vignette(img: Image.Image, strength: float, color: RGB = (8, 6, 12)) -> Image.Image:
    out = img.copy()
    out.paste(color, (0, 0), _vignette_mask(img.size, strength))
    return out


def _multiply_texture(img: Image.Image, texture: Image.Image, low: int) -> Image.Image:
    """Darken `img` by a grey texture mapped into low..255 (paper, pigment, canvas)."""
    t = texture.point(lambda v: low + (255 - low) * v // 255)
    return ImageChops.multiply(img, Image.merge("RGB", (t, t, t)))


# --- finishes ------------------------------------------------------------------------


def _photorealistic(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    soft = img.reduce(4).filter(ImageFilter.GaussianBlur(28 / 4))  # _blur's, squared while small
    bloom = ImageChops.screen(img, ImageChops.multiply(soft, soft).resize(img.size, Image.Resampling.BILINEAR))
    img = Image.blend(img, bloom, 0.35)
    curve = [round(255 / (1 + math.exp(-(v / 255 - 0.5) * 5.5)) * 1.06 - 7) for v in range(256)]
    img = img.point([max(0, min(255, v)) for v in curve] * 3)
    return _grain(_vignette(img, 0.5), rng, 7)


def _digital_art(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    glow = ImageChops.screen(img, _blur(img, 22))
    img = Image.blend(img, glow, 0.4)
    img = ImageEnhance.Color(img).enhance(1.15)
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(14):  # small four-point sparkles
        x, y, r = rng.uniform(0, w), rng.uniform(0, 0.6 * h), rng.uniform(0.004, 0.012) * min(w, h)
        draw.polygon([(x, y - r), (x + r * 0.22, y), (x, y + r), (x - r * 0.22, y)], fill=pal.light)
        draw.polygon([(x - r, y), (x, y + r * 0.22), (x + r, y), (x, y - r * 0.22)], fill=pal.light)
    return img


def _watercolor(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    w, h = img.size
    blobs = Image.new("L", img.size, 0)
    bd = ImageDraw.Draw(blobs)
    layer = img.copy()
    for color in (pal.accent, pal.accent2, pal.far, pal.accent3):  # bleeding washes of colour
        blobs.paste(0, (0, 0, w, h))
        for _ in range(3):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.06, 0.16) * min(w, h)
            bd.ellipse((x - r, y - r * 0.8, x + r, y + r * 0.8), fill=rng.randint(40, 70))
        layer.paste(color, (0, 0), _blur(blobs, 30))
    img = layer.reduce(2).filter(ImageFilter.GaussianBlur(1.2)).resize(img.size, Image.Resampling.BICUBIC)
    edges = ImageChops.difference(img, _blur(img, 10)).convert("L").point(lambda v: 255 - min(90, v * 2))
    img = ImageChops.multiply(img, Image.merge("RGB", (edges, edges, edges)))  # pigment pools at edges
    img = _multiply_texture(img, _value_noise(img.size, rng, 48), 226)  # uneven washes
    img = Image.blend(img, Image.new("RGB", img.size, PAPER), 0.22)
    paper = ImageChops.add(_value_noise(img.size, rng, 3), _value_noise(img.size, rng, 9), 2.0)
    img = _multiply_texture(img, paper, 232)
    frame = Image.new("L", img.size, 255)
    inset = round(0.028 * min(w, h))
    ImageDraw.Draw(frame).rectangle((inset, inset, w - inset, h - inset), fill=0)
    jitter = _value_noise(img.size, rng, 6).point(lambda v: v // 2)
    ragged = ImageChops.add(_blur(frame, 14), jitter, 1.0, -64)
    img.paste(PAPER, (0, 0), ragged.point(lambda v: 255 if v > 128 else 0))
    return img


def _oil_painting(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    w, h = img.size
    img = ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(1.25)).enhance(1.06)
    sample = img.reduce(4)
    flow = _value_noise((w // 4, h // 4), rng, 24)
    strokes = img.copy()
    draw = ImageDraw.Draw(strokes)
    m = min(w, h)
    for _ in range(w * h // 240):
        x, y = rng.randrange(w), rng.randrange(h)
        sx, sy = min(x // 4, sample.width - 1), min(y // 4, sample.height - 1)
        pixel, level = sample.getpixel((sx, sy)), flow.getpixel((sx, sy))
        assert isinstance(pixel, tuple) and isinstance(level, int | float)  # an RGB sample, an "L" noise field
        r, g, b = pixel
        jitter = rng.randint(-7, 7)
        a = (level / 255 - 0.5) * 1.3
        length = rng.uniform(0.008, 0.018) * m
        dx, dy = math.cos(a) * length, math.sin(a) * length
        draw.line((x - dx, y - dy, x + dx, y + dy), fill=(r + jitter, g + jitter, b + jitter), width=rng.randint(5, 10))
    strokes = strokes.filter(ImageFilter.SMOOTH)
    img = Image.blend(strokes, img, 0.3)
    relief = strokes.convert("L").filter(ImageFilter.EMBOSS).point(lambda v: round(128 + (v - 128) * 0.6))
    img = ImageChops.add(img, Image.merge("RGB", (relief, relief, relief)), 1.0, -128)
    img = ImageChops.multiply(img, Image.new("RGB", img.size, (255, 246, 226)))
    return _grain(_vignette(img, 0.4, (30, 18, 8)), rng, 5)


def _anime(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    # Edges found at half size: shape boundaries survive, hairlines and glints do not.
    edges = img.convert("L").reduce(2).filter(ImageFilter.FIND_EDGES)
    edges = edges.resize(img.size, Image.Resampling.BILINEAR).point(lambda v: max(0, min(255, (v - 10) * 9)))
    img = ImageEnhance.Color(img).enhance(1.1)
    img.paste(shade(pal.near, 0.5), (0, 0), edges)
    return img


def _minimalist(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    return img


def _retro(img: Image.Image, pal: Palette, rng: random.Random) -> Image.Image:
    w, h = img.size
    pitch = max(5, round(min(w, h) / 120))
    tile = Image.radial_gradient("L").resize((pitch, pitch), Image.Resampling.BILINEAR)
    row = Image.new("L", (w + pitch, pitch))
    for x in range(0, w + pitch, pitch):
        row.paste(tile, (x, 0))
    screen = Image.new("L", (w, h + pitch))
    for y in range(0, h + pitch, pitch):
        screen.paste(row, (0, y))
    screen = screen.crop((0, 0, w, h))
    dark = img.convert("L").point(lambda v: round(((255 - v) / 255) ** 1.8 * 230))
    dots = ImageChops.subtract(dark, screen).point(lambda v: 60 if v > 0 else 0)
    img = img.copy()
    img.paste(shade(pal.near, 0.6), (0, 0), dots)
    column = Image.new("L", (1, h))
    column.putdata([236 if y % 4 == 0 else 255 for y in range(h)])
    lines = column.resize((w, h), Image.Resampling.NEAREST)
    img = ImageChops.multiply(img, Image.merge("RGB", (lines, lines, lines)))
    fade = [round(22 + v * 0.86) for v in range(256)] + [round(14 + v * 0.86) for v in range(256)]
    img = img.point(fade + [round(26 + v * 0.78) for v in range(256)])
    return _grain(_vignette(img, 0.35, (40, 20, 10)), rng, 16)


FINISHES = {
    "photorealistic": _photorealistic,
    "digital-art": _digital_art,
    "watercolor": _watercolor,
    "oil-painting": _oil_painting,
    "anime": _anime,
    "minimalist": _minimalist,
    "retro": _retro,
}


def finish(img: Image.Image, preset: str, pal: Palette, rng: random.Random) -> Image.Image:
    """The painted scene with the preset's finish (textures, filters, grade) applied."""
    return FINISHES[preset](img, pal, rng)
