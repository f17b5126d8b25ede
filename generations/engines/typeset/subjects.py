"""The typeset engine's subjects: a figure, a cup, an emblem, flowers.

Each painter draws one subject at horizontal centre `cx` (left, middle or right, as the
prompt asks) and returns the box it occupies, so lettering can be kept clear of it.
"""

from __future__ import annotations

import math
import random

from PIL import ImageDraw

from generations.engines.typeset.canvas import Canvas
from generations.engines.typeset.paint import Look, Palette, mix, rotated_ellipse, shade


def _person(cv: Canvas, pal: Palette, rng: random.Random, look: Look, cx: float, excited: bool) -> list[int]:
    w, h = cv.w, cv.h
    bw = min(0.5 * w, 0.6 * h)
    hr = 0.19 * bw
    shoulder_top = h - 0.5 * bw
    head_cy = shoulder_top - 1.05 * hr
    head_top = head_cy - 1.22 * hr
    body = pal.near
    rim = mix(pal.light, pal.accent, 0.3)

    def figure(dx: float, dy: float, color: tuple[int, int, int]) -> None:
        cv.rect((cx - bw / 2 + dx, shoulder_top + dy, cx + bw / 2 + dx, h + bw + dy), color, radius=0.3 * bw)
        cv.polygon(
            [
                (cx - 0.55 * hr + dx, head_cy + 0.7 * hr + dy),
                (cx + 0.55 * hr + dx, head_cy + 0.7 * hr + dy),
                (cx + 0.32 * bw + dx, shoulder_top + 0.02 * bw + dy),
                (cx - 0.32 * bw + dx, shoulder_top + 0.02 * bw + dy),
            ],
            color,
        )
        cv.ellipse((cx - hr + dx, head_top + dy, cx + hr + dx, head_cy + 1.15 * hr + dy), color)

    cv.glow(cx, head_cy, bw * 0.8, pal.light, 0.35)
    figure(bw * 0.018, -bw * 0.012, rim)
    figure(0, 0, body)
    if excited:
        for sign in (-1, 1):
            for k, a in enumerate((-0.5, 0.0, 0.5)):
                ang = math.pi / 2 - sign * (math.pi / 2) + a * sign
                r0, r1 = hr * 1.45, hr * (1.95 if k != 1 else 2.15)
                x0, y0 = cx + sign * abs(math.cos(ang)) * r0, head_cy - hr * 0.3 + math.sin(ang) * r0
                x1, y1 = cx + sign * abs(math.cos(ang)) * r1, head_cy - hr * 0.3 + math.sin(ang) * r1
                cv.line([(x0, y0), (x1, y1)], pal.accent, max(3.0, hr * 0.09))
    return [round(cx - bw / 2), round(head_top - hr * 0.2), round(cx + bw / 2), h]


def _cup(cv: Canvas, pal: Palette, rng: random.Random, look: Look, cx: float, excited: bool) -> list[int]:
    w, h = cv.w, cv.h
    m = min(w, h)
    table = h * 0.74
    cv.rect((0, table, w, h), mix(pal.near, pal.sky[-1], 0.35))
    cv.rect((0, table, w, table + 0.006 * h), mix(pal.light, pal.sky[-1], 0.3))
    cw, ch = 0.32 * m, 0.27 * m
    top, bottom = table - ch - 0.03 * m, table - 0.03 * m
    cv.translucent(
        pal.near,
        0.25,
        lambda d, s: d.ellipse(
            ((cx - cw * 0.9) * s, (table - 0.02 * m) * s, (cx + cw * 0.9) * s, (table + 0.05 * m) * s), 255
        ),
    )
    cv.ellipse((cx - cw * 0.8, bottom - 0.025 * m, cx + cw * 0.8, bottom + 0.045 * m), shade(pal.light, 0.92))
    body = pal.accent
    handle = (cx + cw * 0.3, top + ch * 0.18, cx + cw * 0.78, top + ch * 0.68)
    cv.ellipse(handle, None, outline=body, width=0.035 * m)
    cv.rect((cx - cw / 2, top, cx + cw / 2, bottom - ch * 0.3), body)
    cv.ellipse((cx - cw / 2, bottom - ch * 0.62, cx + cw / 2, bottom), body)
    cv.rect((cx - cw / 2, top + ch * 0.12, cx - cw * 0.38, bottom - ch * 0.35), shade(body, 1.18))
    cv.ellipse((cx - cw / 2, top - 0.05 * m, cx + cw / 2, top + 0.05 * m), shade(body, 1.25))
    cv.ellipse((cx - cw * 0.45, top - 0.04 * m, cx + cw * 0.45, top + 0.04 * m), pal.near)
    cv.ellipse((cx - cw * 0.3, top - 0.022 * m, cx + cw * 0.3, top + 0.022 * m), mix(pal.near, pal.accent3, 0.55))

    def steam(draw: ImageDraw.ImageDraw, s: int) -> None:
        for k in (-1, 0, 1):
            x0 = cx + k * cw * 0.2
            pts = [
                ((x0 + 0.025 * m * math.sin(t / 6 * 6.28 + k)) * s, (top - 0.06 * m - t * 0.035 * m) * s)
                for t in range(0, 7)
            ]
            draw.line(pts, fill=255, width=round(0.014 * m * s), joint="curve")

    cv.translucent(pal.light, 0.7, steam)
    return [round(cx - cw * 0.9), round(top - 0.3 * m), round(cx + cw * 0.9), round(table + 0.05 * m)]


def _emblem(cv: Canvas, pal: Palette, rng: random.Random, look: Look, cx: float, excited: bool) -> list[int]:
    w, h = cv.w, cv.h
    r = 0.24 * min(w, h)
    cy = h * 0.42
    cv.translucent(
        pal.near,
        0.22,
        lambda d, s: d.ellipse(((cx - r) * s, (cy - r + r * 0.08) * s, (cx + r) * s, (cy + r + r * 0.12) * s), 255),
    )
    cv.circle(cx, cy, r, pal.accent2)
    cv.circle(cx, cy, r * 0.86, pal.light)
    cv.circle(cx, cy, r * 0.74, pal.accent2)
    kind = rng.choice(("star", "peak", "hex", "spark"))
    inner = r * 0.52
    color = pal.accent
    if kind == "star":
        pts = []
        for k in range(10):
            rad = inner if k % 2 == 0 else inner * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        cv.polygon(pts, color)
    elif kind == "peak":
        cv.polygon(
            [
                (cx - inner, cy + inner * 0.5),
                (cx - inner * 0.2, cy - inner * 0.6),
                (cx + inner * 0.25, cy + inner * 0.5),
            ],
            color,
        )
        cv.polygon(
            [
                (cx - inner * 0.1, cy + inner * 0.5),
                (cx + inner * 0.45, cy - inner * 0.25),
                (cx + inner, cy + inner * 0.5),
            ],
            pal.accent3,
        )
    elif kind == "hex":
        cv.polygon(
            [(cx + inner * math.cos(a), cy + inner * math.sin(a)) for a in (k * math.pi / 3 for k in range(6))], color
        )
        cv.circle(cx, cy, inner * 0.4, pal.accent2)
    else:
        for k in range(4):
            a = k * math.pi / 2
            cv.polygon(
                [
                    (cx, cy),
                    (cx + inner * math.cos(a - 0.25), cy + inner * math.sin(a - 0.25)),
                    (cx + inner * 1.05 * math.cos(a), cy + inner * 1.05 * math.sin(a)),
                    (cx + inner * math.cos(a + 0.25), cy + inner * math.sin(a + 0.25)),
                ],
                color if k % 2 else pal.accent3,
            )
    return [round(cx - r), round(cy - r), round(cx + r), round(cy + r * 1.12)]


def _flower(cv: Canvas, pal: Palette, rng: random.Random, look: Look, cx: float, excited: bool) -> list[int]:
    w, h = cv.w, cv.h
    m = min(w, h)
    heads = [(cx, h * 0.52, 0.17 * m)]
    if look.detail >= 0.5:
        heads += [(cx - 0.22 * m, h * 0.66, 0.1 * m), (cx + 0.21 * m, h * 0.7, 0.085 * m)]
    for x, y, r in heads:
        cv.line([(x, y), (x + r * 0.3, h + 5)], pal.near, max(3, r * 0.09))
        cv.polygon(rotated_ellipse(x + r * 0.35, y + r * 1.7, r * 0.45, r * 0.17, -0.6), pal.far)
    for n, (x, y, r) in enumerate(heads):
        petals = 7 if n else 8
        color = pal.accent if n == 0 else pal.accent2
        turn = rng.uniform(0, 1)
        for k in range(petals):
            a = turn + 2 * math.pi * k / petals
            cv.polygon(
                rotated_ellipse(x + math.cos(a) * r * 0.55, y + math.sin(a) * r * 0.55, r * 0.55, r * 0.27, a), color
            )
        for k in range(petals):
            a = turn + 2 * math.pi * (k + 0.5) / petals
            cv.polygon(
                rotated_ellipse(x + math.cos(a) * r * 0.4, y + math.sin(a) * r * 0.4, r * 0.38, r * 0.2, a),
                shade(color, 1.12),
            )
        cv.circle(x, y, r * 0.26, pal.accent3)
    return [round(cx - 0.34 * m), round(h * 0.52 - 0.2 * m), round(cx + 0.34 * m), h]


SUBJECT_PAINTERS = {"person": _person, "cup": _cup, "emblem": _emblem, "flower": _flower}
