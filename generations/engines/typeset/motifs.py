"""The typeset engine's scene: skies, ridges, skylines, forests, water, abstract shapes.

`paint_scene` draws the chosen motifs back to front on a `Canvas` and says where the
subject stands, so lettering can be kept clear of it. Every random choice comes from the
`random.Random` it is given, so a scene is a pure function of its inputs.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from generations.engines.typeset.canvas import Canvas
from generations.engines.typeset.paint import (
    LANDSCAPE,
    SUBJECTS,
    WHITE,
    Look,
    Palette,
    Point,
    Scene,
    mix,
    ridge,
    shade,
)
from generations.engines.typeset.subjects import SUBJECT_PAINTERS


def paint_scene(
    cv: Canvas, motifs: list[str], pal: Palette, rng: random.Random, look: Look, side: str, excited: bool = False
) -> Scene:
    """Paint sky or backdrop, landscape layers and the subject; return what went where."""
    w, h = cv.w, cv.h
    land = [m for m in motifs if m in LANDSCAPE]
    subject = next((m for m in motifs if m in SUBJECTS), None)
    scene = Scene(motifs=[m for m in motifs if m != "burst"])  # a burst is listed once it is drawn
    cx = {"left": 0.29 * w, "right": 0.71 * w}.get(side, 0.5 * w)
    cv.gradient(pal.sky)
    if land:
        # Tall formats and cities or forests put the horizon lower, so the ground never empties out.
        tall = max(0.0, min(1.0, (h / w - 1) / 0.8))
        low = "ocean" not in land and {"city", "forest"} & set(land)
        horizon = h * ((0.6 if "ocean" in land else 0.78 if low else 0.66) + 0.1 * tall)
        scene.horizon = horizon
        if "night" in land:  # the moon
            sun = (rng.uniform(0.62, 0.82) * w, rng.uniform(0.16, 0.26) * h)
        else:
            sun = (rng.uniform(0.3, 0.7) * w, horizon - (0.24 if {"sunset", "desert"} & set(land) else 0.4) * h)
        if look.burst:
            _burst(cv, pal, sun[0], sun[1], rng, look)
            scene.motifs.append("burst")
        _sky(cv, pal, rng, look, land, horizon, sun, scene)
        cv.soften(look.far_blur)
        if "night" in land:
            _stars(cv, pal, rng, look, horizon)
        if "mountains" in land:
            _mountains(cv, pal, rng, look, horizon)
        elif not {"city", "forest", "ocean"} & set(land):
            _hills(cv, pal, rng, look, horizon, sandy="desert" in land)
        if "forest" in land:
            _forest(cv, pal, rng, look, horizon)
        if "city" in land:
            _city(cv, pal, rng, look, horizon, night="night" in land or "sunset" in land)
        cv.soften(look.mid_blur)
        if "ocean" in land:
            _water(cv, pal, rng, look, horizon, sun[0])
        elif "city" in land and "forest" not in land:
            _street(cv, pal, rng, horizon)
        scene.text_hint = "top"
    else:
        if ("burst" in motifs and look.detail >= 0.5) or look.burst:
            _burst(cv, pal, cx, h * (0.42 if subject != "person" else 0.55), rng, look)
            scene.motifs.append("burst")
        if subject is None:
            _abstract(cv, pal, rng, look, scene)
        else:
            cv.glow(cx, h * 0.45, max(w, h) * 0.55, pal.light, 0.55, power=1.6)
        cv.soften(look.far_blur)
        scene.text_hint = "center" if subject is None else "top"
    if subject:
        scene.subject_box = SUBJECT_PAINTERS[subject](cv, pal, rng, look, cx, excited)
        if side == "left":
            scene.text_hint = "right"
        elif side == "right":
            scene.text_hint = "left"
        elif subject == "emblem":
            scene.text_hint = "bottom"
    if look.cel and ("burst" in motifs or subject == "person"):
        _speed_lines(cv, rng)
    return scene


def _stars(cv: Canvas, pal: Palette, rng: random.Random, look: Look, horizon: float) -> None:
    w = cv.w
    count = int(220 * look.detail * w * horizon / 1e6) + 12

    def stars(draw: ImageDraw.ImageDraw, s: int) -> None:
        for _ in range(count):
            x, y, r = rng.uniform(0, w), rng.uniform(0, horizon * 0.95), rng.choice((0.7, 0.9, 1.2, 1.8))
            draw.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=rng.randint(120, 255))

    cv.translucent(pal.light, 1.0, stars)


def _sky(
    cv: Canvas, pal: Palette, rng: random.Random, look: Look, land: list[str], horizon: float, sun: Point, scene: Scene
) -> None:
    """The moon, or the sun and clouds."""
    w, h = cv.w, cv.h
    m = min(w, h)
    if "night" in land:
        (mx, my), mr = sun, 0.075 * m
        scene.keep_clear("moon", (mx - 1.5 * mr, my - 1.5 * mr, mx + 1.5 * mr, my + 1.5 * mr))
        cv.glow(mx, my, mr * 4, pal.accent, 0.35)
        cv.circle(mx, my, mr, pal.accent)
        for dx, dy, cr in ((-0.3, -0.2, 0.22), (0.25, 0.3, 0.16), (0.35, -0.35, 0.1)):
            cv.circle(mx + dx * mr, my + dy * mr, cr * mr, shade(pal.accent, 0.93))
        return
    sunset = "sunset" in land or "desert" in land
    sx, sy = sun
    sr = (0.1 if sunset else 0.07) * m
    reach = sr * (1.5 if look.striped_sun else 1.0) * 1.4
    scene.keep_clear("sun", (sx - reach, sy - reach, sx + reach, min(sy + reach, horizon)))
    cv.glow(sx, sy, sr * 5, pal.accent, 0.5, power=2.2)
    if look.striped_sun:
        _striped_sun(cv, pal, sx, sy, sr * 1.5)
    else:
        cv.circle(sx, sy, sr, pal.accent)
    if "city" in land or look.detail < 0.5:
        return
    for k in range(rng.randint(2, 4) if look.cel else rng.randint(1, 3)):
        x = (k + rng.uniform(0.2, 0.8)) / 3 * w
        _cloud(cv, pal, rng, look, x, rng.uniform(0.12, 0.45) * horizon, rng.uniform(0.2, 0.34) * w)


def _striped_sun(cv: Canvas, pal: Palette, sx: float, sy: float, r: float) -> None:
    """A synthwave sun: a warm gradient disc with widening bands cut from its lower half."""
    size = round(2 * r * cv.s)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((0, 0, size - 1, size - 1), fill=255)
    band, y = size * 0.025, size * 0.53
    while y < size:
        draw.rectangle((0, y, size, y + band), fill=0)
        y += band * 2.4
        band *= 1.3
    cv.gradient(
        [pal.accent, pal.accent, pal.accent2], (sx - r, sy - r, sx - r + size / cv.s, sy - r + size / cv.s), mask
    )


def _cloud(cv: Canvas, pal: Palette, rng: random.Random, look: Look, x: float, y: float, width: float) -> None:
    """A flat-bottomed cumulus: puffs rising from a level base, biggest in the middle."""
    n = rng.randint(4, 6)
    puffs = []
    for k in range(n):
        t = (k + 0.5) / n
        r = width * (0.09 + 0.1 * math.sin(math.pi * t)) * rng.uniform(0.85, 1.15)
        puffs.append((x - width / 2 + t * width, y - r * 0.35, r))

    def draw_puffs(draw: ImageDraw.ImageDraw, s: int, lift: float = 0.0) -> None:
        for px, py, r in puffs:
            r -= lift * 0.6
            draw.ellipse(((px - r) * s, (py - r - lift) * s, (px + r) * s, (py + r - lift) * s), fill=255)
        draw.rectangle(((x - width) * s, (y - lift) * s, (x + width) * s, (y + width) * s), fill=0)

    if look.cel:
        cv.translucent(mix(pal.light, pal.far, 0.35), 1.0, draw_puffs)
        cv.translucent(WHITE, 1.0, lambda d, s: draw_puffs(d, s, width * 0.045))
    else:
        cv.translucent(mix(pal.light, pal.sky[-1], 0.25), 0.8, draw_puffs)


def _mountains(cv: Canvas, pal: Palette, rng: random.Random, look: Look, horizon: float) -> None:
    w, h = cv.w, cv.h
    layers = 2 if look.detail < 0.5 else 4
    for i in range(layers):
        t = i / (layers - 1)
        color = mix(mix(pal.far, pal.sky[-1], 0.45 * (1 - t)), pal.near, t**1.3)
        profile = ridge(rng, 64, 0.5 if i < layers - 1 else 0.45)
        base = horizon - h * (0.1 - 0.035 * i)
        amp = h * (0.17 - 0.03 * i)
        pts: list[Point] = [(w * k / 64, base - amp * (0.5 + 0.5 * p)) for k, p in enumerate(profile)]
        if i == layers - 1:  # the nearest ridge darkens towards the viewer
            cv.polygon_gradient([*pts, (w, h), (0, h)], [shade(color, 1.25), color, shade(color, 0.55)])
        else:
            cv.polygon([*pts, (w, h), (0, h)], color)
        if i == 0 and look.detail >= 0.5:  # snow on the far peaks, down to a ragged snow line
            line = base - amp * 0.72
            lower = [(x, max(y, min(y + amp * 0.25, line + rng.uniform(-0.012, 0.012) * h))) for x, y in pts]
            cv.polygon([*pts, *reversed(lower)], mix(color, WHITE, 0.55))


def _hills(cv: Canvas, pal: Palette, rng: random.Random, look: Look, horizon: float, sandy: bool) -> None:
    w, h = cv.w, cv.h
    layers = 2 if look.detail < 0.5 else 3
    for i in range(layers):
        t = i / (layers - 1)
        color = mix(mix(pal.far, pal.sky[-1], 0.35 * (1 - t)), pal.near if not sandy else pal.accent3, t * 0.85)
        f1, f2 = rng.uniform(0.8, 1.6), rng.uniform(2.0, 3.5)
        p1, p2 = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
        base = horizon + h * 0.09 * i - h * 0.04
        amp = h * (0.07 - 0.012 * i)
        pts: list[Point] = [
            (w * k / 48, base - amp * (math.sin(f1 * k / 48 * 6.28 + p1) + 0.35 * math.sin(f2 * k / 48 * 6.28 + p2)))
            for k in range(49)
        ]
        cv.polygon([*pts, (w, h), (0, h)], color)


def _forest(cv: Canvas, pal: Palette, rng: random.Random, look: Look, horizon: float) -> None:
    """Rows of pines from the horizon down to the bottom edge, hazier with distance."""
    w, h = cv.w, cv.h
    rows = 2 if look.detail < 0.5 else 3
    for i in range(rows):
        t = i / (rows - 1)
        color = mix(mix(pal.far, pal.sky[-1], 0.4 * (1 - t)), pal.near, t)
        th = h * (0.14 + 0.3 * t)
        base = horizon + (h - horizon + th * 0.12) * t
        cv.rect((0, base - 2, w, h), color)
        x = rng.uniform(-th * 0.3, 0)
        while x < w + th * 0.3:
            tree_h = th * rng.uniform(0.7, 1.15)
            _pine(cv, x, base + rng.uniform(0.0, 0.02) * h, tree_h, color)
            x += tree_h * rng.uniform(0.25, 0.42) * (1.6 if look.detail < 0.5 else 1)


def _pine(cv: Canvas, x: float, base: float, height: float, color: tuple[int, int, int]) -> None:
    cv.rect((x - height * 0.025, base - height * 0.2, x + height * 0.025, base + 2), color)
    tiers = 4
    for k in range(tiers):
        top = base - height * (1 - 0.2 * k)
        bottom = base - height * (0.12 + 0.22 * (tiers - 1 - k) * 0.9)
        spread = height * (0.12 + 0.07 * k)
        cv.polygon([(x, top), (x + spread, bottom), (x - spread, bottom)], color)


def _city(cv: Canvas, pal: Palette, rng: random.Random, look: Look, horizon: float, night: bool) -> None:
    w, h = cv.w, cv.h
    for row in range(2):
        color = mix(pal.far, pal.sky[-1], 0.3) if row == 0 else pal.near
        x = rng.uniform(-0.05, 0) * w
        while x < w:
            bw = rng.uniform(0.045, 0.1) * w
            bh = h * (rng.uniform(0.16, 0.36) if row == 0 else rng.uniform(0.08, 0.3))
            top = horizon - bh
            cv.rect((x, top, x + bw, horizon + 2), color)
            if rng.random() < 0.3:
                cv.rect((x + bw * 0.2, top - bh * 0.1, x + bw * 0.8, top + 1), color)
            if rng.random() < 0.2:
                cv.line([(x + bw / 2, top - bh * 0.25), (x + bw / 2, top)], color, 2)
            if row == 1 and look.detail >= 0.5:
                _windows(cv, rng, (x, top, x + bw, horizon), pal.light if night else shade(pal.near, 1.6), night)
            x += bw + rng.uniform(-0.01, 0.01) * w


def _street(cv: Canvas, pal: Palette, rng: random.Random, horizon: float) -> None:
    """Ground under a skyline: a dark street with the city's lights streaked across it."""
    w, h = cv.w, cv.h
    cv.gradient([shade(pal.near, 1.25), shade(pal.near, 0.7)], (0, horizon, w, h))
    streaks = [(rng.uniform(0, w), rng.uniform(0.2, 0.7) * (h - horizon), rng.uniform(2, 6)) for _ in range(14)]

    def draw(d: ImageDraw.ImageDraw, s: int) -> None:
        for x, y, t in streaks:
            d.rectangle((x * s, horizon * s, (x + t) * s, (horizon + y) * s), fill=255)

    cv.translucent(pal.light, 0.14, draw)


def _windows(cv: Canvas, rng: random.Random, box: tuple[float, float, float, float], lit: tuple, night: bool) -> None:
    x0, y0, x1, y1 = box
    size = max(3.0, (x1 - x0) / 9)
    y = y0 + size * 1.5
    while y < y1 - size * 2:
        x = x0 + size
        while x < x1 - size * 1.5:
            if rng.random() < (0.35 if night else 0.5):
                cv.rect((x, y, x + size, y + size * 1.2), lit)
            x += size * 2
        y += size * 2.2


def _water(cv: Canvas, pal: Palette, rng: random.Random, look: Look, horizon: float, sx: float) -> None:
    w, h = cv.w, cv.h
    top = mix(pal.sky[-1], pal.accent2, 0.45)
    cv.gradient([top, mix(pal.accent2, pal.near, 0.3), pal.near], (0, horizon, w, h))
    cv.rect((0, horizon - 1, w, horizon + 1), mix(top, WHITE, 0.4))
    lines = 0 if look.cel else int(34 * look.detail) + 4

    def shimmer(draw: ImageDraw.ImageDraw, s: int) -> None:
        for _ in range(lines):
            y = horizon + (h - horizon) * rng.random() ** 1.6
            length = w * rng.uniform(0.015, 0.06) * (1 + 2 * (y - horizon) / (h - horizon))
            x = rng.uniform(-0.05, 1) * w
            thick = 1 + 2.5 * (y - horizon) / (h - horizon)
            draw.rounded_rectangle((x * s, y * s, (x + length) * s, (y + thick) * s), radius=thick * s / 2, fill=255)

    cv.translucent(pal.light, 0.3, shimmer)

    def reflection(draw: ImageDraw.ImageDraw, s: int) -> None:
        y = horizon + 4
        while y < h:
            span = w * 0.05 * (1 + (y - horizon) / (h - horizon)) * rng.uniform(0.5, 1.4)
            off = rng.uniform(-0.02, 0.02) * w
            draw.rectangle(((sx + off - span) * s, y * s, (sx + off + span) * s, (y + 3) * s), fill=255)
            y += rng.uniform(7, 14) * (1 + (y - horizon) / (h - horizon))

    def glints(draw: ImageDraw.ImageDraw, s: int) -> None:
        for k in range(6):
            y = horizon + (h - horizon) * (0.08 + 0.15 * k)
            span = w * (0.03 + 0.025 * k) * rng.uniform(0.8, 1.2)
            thick = h * (0.008 + 0.003 * k)
            draw.rounded_rectangle(((sx - span) * s, y * s, (sx + span) * s, (y + thick) * s), thick * s / 2, fill=255)

    cv.translucent(pal.accent, 0.85 if look.cel else 0.5, glints if look.cel else reflection)


def _abstract(cv: Canvas, pal: Palette, rng: random.Random, look: Look, scene: Scene) -> None:
    """A modern poster composition: a focal disc, a counter-shape, an arc, a band, dots."""
    w, h = cv.w, cv.h
    m = min(w, h)
    fx, fy = rng.choice((0.33, 0.67)) * w, rng.choice((0.36, 0.64)) * h
    r = rng.uniform(0.24, 0.32) * m
    if look.detail >= 0.5:
        band = rng.uniform(0.25, 0.75) * h
        tilt = rng.uniform(-0.25, 0.25) * h
        cv.polygon(
            [(0, band - tilt), (w, band + tilt), (w, band + tilt + 0.12 * h), (0, band - tilt + 0.12 * h)], pal.far
        )
    cv.glow(fx, fy, r * 2.2, pal.accent, 0.25)
    cv.circle(fx, fy, r, pal.accent)
    scene.keep_clear("disc", (fx - r, fy - r, fx + r, fy + r))
    ox, oy = w - fx + rng.uniform(-0.08, 0.08) * w, h - fy + rng.uniform(-0.08, 0.08) * h
    r2 = r * rng.uniform(0.45, 0.7)
    ring = 1.0 if look.detail >= 0.5 else 0.5
    scene.keep_clear(
        "ring" if ring == 1.0 else "disc", (ox - r2 * ring, oy - r2 * ring, ox + r2 * ring, oy + r2 * ring)
    )
    if look.detail >= 0.5:
        cv.ellipse((ox - r2, oy - r2, ox + r2, oy + r2), None, outline=pal.accent3, width=0.008 * m)
        cv.arc((ox - r2, oy - r2, ox + r2, oy + r2), 200, 340, pal.accent3, width=0.03 * m)
        cv.pieslice((fx - r * 0.8, fy - r * 0.8, fx + r * 0.8, fy + r * 0.8), 0, 180, pal.accent2)
        step = 0.035 * m
        gx, gy = rng.choice((0.1, 0.7)) * w, rng.choice((0.1, 0.72)) * h
        for i in range(5):
            for j in range(5):
                cv.circle(gx + i * step, gy + j * step, 0.006 * m, pal.near)
        scene.keep_clear("dots", (gx - 0.01 * m, gy - 0.01 * m, gx + 4 * step + 0.01 * m, gy + 4 * step + 0.01 * m))
        wave: list[Point] = [(x, oy + r2 * 1.6 + 0.02 * m * math.sin(x / (0.04 * m))) for x in range(0, w + 10, 8)]
        cv.line(wave, pal.accent2, 0.008 * m)
        wy = oy + r2 * 1.6
        scene.keep_clear("wave", (0, wy - 0.03 * m, w, wy + 0.03 * m))
    else:
        cv.circle(ox, oy, r2 * 0.5, pal.accent2)


def _burst(cv: Canvas, pal: Palette, cx: float, cy: float, rng: random.Random, look: Look) -> None:
    w, h = cv.w, cv.h
    rays = 24 if look.detail >= 0.5 else 12
    reach = math.hypot(w, h)
    turn = rng.uniform(0, math.pi / rays)

    def wedges(draw: ImageDraw.ImageDraw, s: int) -> None:
        for k in range(rays):
            a0 = turn + 2 * math.pi * k / rays
            a1 = a0 + math.pi / rays
            pts = [(cx, cy), (cx + reach * math.cos(a0), cy + reach * math.sin(a0))]
            pts.append((cx + reach * math.cos(a1), cy + reach * math.sin(a1)))
            draw.polygon([(x * s, y * s) for x, y in pts], fill=255)

    cv.translucent(pal.light, 0.16 if not look.burst else 0.28, wedges)


def _speed_lines(cv: Canvas, rng: random.Random) -> None:
    w, h = cv.w, cv.h
    cx, cy = w / 2, h / 2

    def lines(draw: ImageDraw.ImageDraw, s: int) -> None:
        for _ in range(70):
            a = rng.uniform(0, 2 * math.pi)
            inner = rng.uniform(0.42, 0.55)
            r_out = math.hypot(w, h) / 2
            da = rng.uniform(0.002, 0.008)
            pts = [
                (cx + math.cos(a) * w * inner, cy + math.sin(a) * h * inner),
                (cx + math.cos(a - da) * r_out, cy + math.sin(a - da) * r_out),
                (cx + math.cos(a + da) * r_out, cy + math.sin(a + da) * r_out),
            ]
            draw.polygon([(x * s, y * s) for x, y in pts], fill=255)

    cv.translucent(WHITE, 0.7, lines)
