"""Motif choice, palettes and the scene record the typeset engine paints with (the canvas: `canvas.py`).

A scene is a short stack of motifs chosen from the prompt's words (a sunset sky, ridges,
a skyline, a figure, a cup...) painted back to front in the palette's colours.
"""

from __future__ import annotations

import colorsys
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PIL import Image

RGB = tuple[int, int, int]
Point = tuple[float, float]
WHITE: RGB = (255, 255, 255)


def hex_rgb(value: str) -> RGB:
    """'#ff6600' -> (255, 102, 0)."""
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_hex(rgb: tuple[int, ...]) -> str:
    """(255, 102, 0) -> '#ff6600'."""
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved a fraction `t` of the way to `b`."""
    return round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t)


def shade(rgb: RGB, lightness: float = 1.0, saturation: float = 1.0, hue_shift: float = 0.0) -> RGB:
    """`rgb` with its HLS lightness and saturation scaled and its hue turned (in turns)."""
    h, lum, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    r, g, b = colorsys.hls_to_rgb((h + hue_shift) % 1.0, min(1.0, lum * lightness), min(1.0, s * saturation))
    return round(r * 255), round(g * 255), round(b * 255)


@dataclass
class Palette:
    """The scene's colours by role; `from_user` when they came from the request's palette."""

    sky: list[RGB]  # background gradient stops, top to bottom
    accent: RGB  # sun, key shapes
    accent2: RGB
    accent3: RGB
    far: RGB  # distant layers, hazy
    near: RGB  # foreground and silhouettes
    light: RGB  # highlights, stars, lit windows
    from_user: bool = False

    def hexes(self) -> list[str]:
        """Every colour in the palette once, as '#rrggbb' (for the plan)."""
        seen: list[str] = []
        for c in [*self.sky, self.accent, self.accent2, self.accent3, self.far, self.near, self.light]:
            if rgb_hex(c) not in seen:
                seen.append(rgb_hex(c))
        return seen

    def graded(self, fn: Callable[[RGB], RGB]) -> Palette:
        """Every colour passed through `fn` (a style's colour grade)."""
        return replace(
            self,
            sky=[fn(c) for c in self.sky],
            accent=fn(self.accent),
            accent2=fn(self.accent2),
            accent3=fn(self.accent3),
            far=fn(self.far),
            near=fn(self.near),
            light=fn(self.light),
        )


def _pal(sky: list[str], accent: str, accent2: str, accent3: str, far: str, near: str, light: str) -> Palette:
    return Palette(
        [hex_rgb(c) for c in sky],
        hex_rgb(accent),
        hex_rgb(accent2),
        hex_rgb(accent3),
        hex_rgb(far),
        hex_rgb(near),
        hex_rgb(light),
    )


THEMES: dict[str, Palette] = {
    "sunset": _pal(
        ["#2e1a4f", "#b8477a", "#ff8c61", "#ffc483"], "#ffe29a", "#ff6f59", "#7a3b69", "#8a4f7d", "#2b1636", "#fff1d6"
    ),
    "night": _pal(["#070b1f", "#18205a", "#3b3f8f"], "#f7f3d2", "#8d7bd6", "#ff7ab6", "#2f3470", "#0b0d24", "#fffbe6"),
    "ocean": _pal(["#6cb8e6", "#bfe4f7", "#f3fbff"], "#ffd166", "#0f7bb8", "#f79d65", "#7fb3d5", "#0b3d6e", "#ffffff"),
    "mountains": _pal(
        ["#8fb8f0", "#cfe3fa", "#f5e9dc"], "#ffdf9e", "#e86a58", "#4f6d8f", "#93a9c9", "#233447", "#ffffff"
    ),
    "forest": _pal(["#bfdac6", "#eef4e0"], "#f4d35e", "#e76f51", "#40916c", "#7fa88f", "#14352a", "#fbfbef"),
    "city": _pal(
        ["#141a3a", "#3b2c63", "#c25b7a", "#ff9f6e"], "#ffcf70", "#ff4d6d", "#4cc9f0", "#3a2f63", "#100d26", "#ffe08a"
    ),
    "desert": _pal(["#f6b26b", "#fde3b0"], "#fff0c2", "#d9643a", "#9c4f2e", "#e59a59", "#8a3f22", "#fff8ea"),
    "hills": _pal(["#9fd3f0", "#e8f6fd"], "#ffe08a", "#f28f3b", "#588157", "#a3c585", "#2f5233", "#ffffff"),
    "cup": _pal(["#f3e3cf", "#d8b593"], "#c8553d", "#e9b872", "#8c5a3c", "#b98b68", "#3e2519", "#fff8ee"),
    "flower": _pal(["#fde2e4", "#f9cfd9", "#fbe7d3"], "#e5989b", "#d1495b", "#f6bd60", "#b5c99a", "#3a5a40", "#fffaf4"),
    "person": _pal(["#dbe4ee", "#9fb3c8"], "#f59e0b", "#ef4444", "#3b82f6", "#b6c4d4", "#1f2937", "#ffffff"),
    "emblem": _pal(["#f7f5f0", "#e6e1d6"], "#ff6b35", "#1d4e89", "#f7b32b", "#d8d2c4", "#1a1a2e", "#ffffff"),
}
ABSTRACT = [
    _pal(["#f4f1de", "#efe6cc"], "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#2b2d42", "#ffffff"),
    _pal(["#264653", "#1d3540"], "#e9c46a", "#f4a261", "#2a9d8f", "#e76f51", "#0e1f26", "#f8f4e3"),
    _pal(["#0d1b2a", "#1b263b"], "#e0e1dd", "#778da9", "#f77f00", "#415a77", "#050b14", "#ffffff"),
    _pal(["#ffcdb2", "#ffb4a2"], "#6d6875", "#e5989b", "#b5838d", "#fbe3d6", "#3d3540", "#fffaf7"),
    _pal(["#003049", "#00223a"], "#fcbf49", "#d62828", "#f77f00", "#eae2b7", "#001524", "#fdf6e3"),
    _pal(["#f2e9e4", "#c9ada7"], "#4a4e69", "#9a8c98", "#e76f51", "#22223b", "#22223b", "#ffffff"),
    _pal(["#fefae0", "#f1e6c4"], "#bc6c25", "#606c38", "#dda15e", "#283618", "#283618", "#ffffff"),
    _pal(["#caf0f8", "#90e0ef"], "#03045e", "#0077b6", "#ff8fa3", "#00b4d8", "#03045e", "#ffffff"),
]

LANDSCAPE = ("sunset", "night", "ocean", "mountains", "forest", "city", "desert", "hills")
SUBJECTS = ("person", "cup", "emblem", "flower")
MOTIF_WORDS: dict[str, set[str]] = {
    "sunset": {"sunset", "sunrise", "dusk", "dawn", "golden", "evening", "twilight", "sundown"},
    "night": {"night", "stars", "starry", "star", "galaxy", "space", "moon", "midnight", "cosmic", "nebula", "moonlit"},
    "ocean": {"ocean", "sea", "beach", "waves", "wave", "lake", "coast", "water", "river", "surf", "island", "shore"},
    "mountains": {"mountain", "mountains", "alps", "peak", "peaks", "summit", "alpine", "ridge", "volcano", "snow"},
    "forest": {"forest", "tree", "trees", "woods", "jungle", "pine", "pines", "woodland", "nature", "camping"},
    "city": {"city", "skyline", "urban", "street", "building", "buildings", "downtown", "cyberpunk", "skyscraper"},
    "desert": {"desert", "dune", "dunes", "sand", "sahara", "cactus", "canyon"},
    "hills": {"field", "fields", "meadow", "valley", "countryside", "landscape", "farm", "hills", "hill", "scenic"},
    "person": {"person", "portrait", "man", "woman", "people", "face", "character", "girl", "boy", "guy", "selfie"},
    "cup": {"coffee", "cafe", "café", "latte", "espresso", "tea", "mug", "cup", "cappuccino", "cozy", "breakfast"},
    "emblem": {"logo", "icon", "badge", "emblem", "brand", "circle", "seal", "monogram", "app", "startup"},
    "flower": {"flower", "flowers", "floral", "garden", "rose", "roses", "bloom", "blossom", "tulip", "spring"},
}
MOTIF_WORDS["person"] |= {"headshot", "influencer", "excited", "smiling", "businessman", "businesswoman", "student"}
BURST_WORDS = {"thumbnail", "youtube", "poster", "banner", "sale", "promo", "announcement", "launch", "deal", "excited"}
BURST_WORDS |= {"amazing", "wow", "shocked", "epic", "giveaway", "flyer"}


def choose_motifs(words: set[str], scene_text: str) -> list[str]:
    """Motif names for the prompt's words: landscape layers, at most one subject, a burst."""
    found = [m for m in LANDSCAPE if words & MOTIF_WORDS[m]]
    if len(found) > 1 and "hills" in found:  # "landscape" alone means hills, not hills as well
        found.remove("hills")
    subjects = [m for m in SUBJECTS if words & MOTIF_WORDS[m]]
    if subjects:

        def first_at(m: str) -> int:
            return min(scene_text.find(w) for w in words & MOTIF_WORDS[m])

        found.append(min(subjects, key=first_at))
    if words & BURST_WORDS:
        found.append("burst")
    return found


def make_palette(
    motifs: list[str], colors: tuple[str, ...], background: RGB | None, accents: list[RGB], rng: random.Random
) -> Palette:
    """The scene palette: the request's colours when given (as the dominant areas), else a
    theme for the leading motif, steered by colour words from the prompt."""
    themed = [m for m in motifs if m in THEMES]
    base = THEMES[themed[0]] if themed else rng.choice(ABSTRACT)
    if "night" in motifs and "city" in motifs:
        base = replace(THEMES["city"], sky=THEMES["night"].sky)
    pal = replace(base, sky=list(base.sky))
    if colors:
        user = [hex_rgb(c) for c in colors]
        c0 = user[0]
        c1 = user[1] if len(user) > 1 else shade(c0, 0.55)
        c2 = user[2] if len(user) > 2 else shade(c1, 1.3)
        c3 = user[3] if len(user) > 3 else shade(c0, 1.35)
        return Palette(
            sky=[shade(c0, 1.12), c0, shade(c0, 0.82)],
            accent=c2 if len(user) > 2 else c3,
            accent2=c1,
            accent3=c3 if len(user) > 3 else c2,
            far=shade(c1, 1.25),
            near=shade(c1, 0.7),
            light=mix(c0, (255, 255, 255), 0.75),
            from_user=True,
        )
    if background:
        pal.sky = [shade(background, 1.18, 0.95), background, shade(background, 0.72)]
        pal.far = mix(pal.far, background, 0.35)
    if accents:
        pal.accent = accents[0]
        if len(accents) > 1:
            pal.accent2 = accents[1]
    return pal


def gradient_image(stops: list[RGB], size: tuple[int, int]) -> Image.Image:
    """An image of `size` shading vertically through the colours `stops`."""
    strip = Image.new("RGB", (1, 256))
    n = len(stops) - 1
    values = []
    for i in range(256):
        t = i / 255 * n
        k = min(int(t), n - 1)
        values.append(mix(stops[k], stops[k + 1], t - k))
    strip.putdata(values)
    # Shaded down one column, then that column repeated across: the same pixels as one
    # bilinear resize to `size` (a one-pixel-wide source is the same in every column) at a
    # fraction of the cost on a 2x canvas.
    column = strip.resize((1, size[1]), Image.Resampling.BILINEAR)
    return column.resize(size, Image.Resampling.NEAREST)


@dataclass
class Scene:
    """What the painters made: the motifs drawn and where the subject stands."""

    motifs: list[str] = field(default_factory=list)
    subject_box: list[int] | None = None
    horizon: float | None = None
    text_hint: str = "center"  # the cheap default place for lettering
    busy: list[tuple[str, list[int]]] = field(default_factory=list)  # (motif, box) lettering keeps off

    def keep_clear(self, name: str, box: tuple[float, float, float, float]) -> None:
        """Note a busy motif (a moon, a disc, a wavy line) that lettering must not cross."""
        self.busy.append((name, [round(box[0]), round(box[1]), round(box[2]), round(box[3])]))


def ridge(rng: random.Random, n: int = 64, roughness: float = 0.55) -> list[float]:
    """A 1-D midpoint-displacement profile in about -1..1: a mountain ridge line."""
    pts = [0.0] * (n + 1)
    pts[0], pts[n] = rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)
    step, amp = n, 1.0
    while step > 1:
        half = step // 2
        for i in range(half, n, step):
            pts[i] = (pts[i - half] + pts[i + half]) / 2 + rng.uniform(-amp, amp)
        amp *= roughness
        step = half
    top = max(abs(p) for p in pts) or 1.0
    return [p / top for p in pts]


def rotated_ellipse(cx: float, cy: float, rx: float, ry: float, angle: float, n: int = 28) -> list[Point]:
    """An ellipse turned by `angle` radians, as a polygon (petals, leaves)."""
    ca, sa = math.cos(angle), math.sin(angle)
    out = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        out.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return out


@dataclass(frozen=True)
class Look:
    """The knobs a style turns on the painters (the rest of a style is post-processing)."""

    detail: float = 1.0  # fewer, simpler shapes below 1 (minimalist)
    cel: bool = False  # anime: hard-shaded clouds, speed lines
    striped_sun: bool = False  # retro: a synthwave sun
    burst: bool = False  # retro: sunburst rays behind the subject
    far_blur: float = 0.0  # depth of field: blur after the far layers...
    mid_blur: float = 0.0  # ...and after the middle ones (photorealistic)
