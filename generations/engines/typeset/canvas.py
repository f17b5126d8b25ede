"""The canvas the typeset engine paints on: output-size RGB, each shape's edges supersampled.

Each shape's mask is drawn at twice the output size over its own box and reduced, which
anti-aliases its edges for the price of a few Pillow calls; nothing loops over pixels in Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from generations.engines.typeset.paint import RGB, Point, gradient_image


class Canvas:
    """An RGB image of the output size, painted shape by shape with anti-aliased edges.

    Each shape is drawn as a mask at `scale` times the output size over its own bounding
    box only, reduced, and laid on in its colour: the edges get `scale`² samples a pixel
    while the picture itself, its gradients, glows and blurs stay at the output size (a
    canvas wholly at twice the size cost four times the pixels in every full-frame step).
    Coordinates are output pixels; `pts` and `box` turn them into mask pixels for the
    `translucent` callback, which draws on a mask of the whole canvas at `scale`.
    """

    def __init__(self, width: int, height: int, scale: int = 2) -> None:
        self.w, self.h, self.s = width, height, scale
        self.img = Image.new("RGB", (width, height))

    def pts(self, points: list[Point]) -> list[Point]:
        return [(x * self.s, y * self.s) for x, y in points]

    def box(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return box[0] * self.s, box[1] * self.s, box[2] * self.s, box[3] * self.s

    def _stamp(
        self,
        fill: RGB | Callable[[tuple[int, int, int, int]], Image.Image],
        bounds: tuple[float, float, float, float],
        shape: Callable[[ImageDraw.ImageDraw, Callable[[float, float], Point]], None],
    ) -> None:
        """Draw `shape` on a supersampled mask covering `bounds` (output pixels, padded to
        whole pixels), reduce it and lay `fill` through it: a colour, or a function giving the
        image for that padded area."""
        x0, y0 = max(0, math.floor(bounds[0]) - 1), max(0, math.floor(bounds[1]) - 1)
        x1, y1 = min(self.w, math.ceil(bounds[2]) + 1), min(self.h, math.ceil(bounds[3]) + 1)
        if x1 <= x0 or y1 <= y0:
            return
        s = self.s
        mask = Image.new("L", ((x1 - x0) * s, (y1 - y0) * s), 0)

        def at(x: float, y: float) -> Point:
            return (x - x0) * s, (y - y0) * s

        shape(ImageDraw.Draw(mask), at)
        if s > 1:
            mask = mask.reduce(s)
        self.img.paste(fill((x0, y0, x1, y1)) if callable(fill) else fill, (x0, y0), mask)

    def polygon(self, points: list[Point], fill: RGB) -> None:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        self._stamp(
            fill, (min(xs), min(ys), max(xs), max(ys)), lambda d, at: d.polygon([at(x, y) for x, y in points], fill=255)
        )

    def ellipse(
        self, box: tuple[float, float, float, float], fill: RGB | None, outline: RGB | None = None, width: float = 2
    ) -> None:
        """A filled ellipse, or (with `outline` and no `fill`) a ring `width` output pixels wide."""
        if fill is not None:
            self._stamp(fill, box, lambda d, at: d.ellipse((*at(box[0], box[1]), *at(box[2], box[3])), fill=255))
        if outline is not None:
            ring = max(1, round(width * self.s))
            self._stamp(
                outline,
                box,
                lambda d, at: d.ellipse((*at(box[0], box[1]), *at(box[2], box[3])), outline=255, width=ring),
            )

    def circle(self, cx: float, cy: float, r: float, fill: RGB) -> None:
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill)

    def arc(self, box: tuple[float, float, float, float], start: float, end: float, fill: RGB, width: float) -> None:
        line = max(1, round(width * self.s))
        self._stamp(fill, box, lambda d, at: d.arc((*at(box[0], box[1]), *at(box[2], box[3])), start, end, 255, line))

    def pieslice(self, box: tuple[float, float, float, float], start: float, end: float, fill: RGB) -> None:
        self._stamp(
            fill, box, lambda d, at: d.pieslice((*at(box[0], box[1]), *at(box[2], box[3])), start, end, fill=255)
        )

    def rect(self, box: tuple[float, float, float, float], fill: RGB, radius: float = 0) -> None:
        if box[2] < box[0] or box[3] < box[1]:
            return
        if radius:
            self._stamp(
                fill,
                box,
                lambda d, at: d.rounded_rectangle((*at(box[0], box[1]), *at(box[2], box[3])), radius * self.s, 255),
            )
        else:
            self._stamp(fill, box, lambda d, at: d.rectangle((*at(box[0], box[1]), *at(box[2], box[3])), fill=255))

    def line(self, points: list[Point], fill: RGB, width: float) -> None:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        pad = width / 2 + 1
        self._stamp(
            fill,
            (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad),
            lambda d, at: d.line(
                [at(x, y) for x, y in points], fill=255, width=max(1, round(width * self.s)), joint="curve"
            ),
        )

    def gradient(
        self, stops: list[RGB], box: tuple[float, float, float, float] | None = None, mask: Image.Image | None = None
    ) -> None:
        """A vertical gradient through `stops`, filling `box` (default: everything), through
        `mask` when given: drawn at `scale` times the box's size, so that its edges are
        anti-aliased like every other shape's."""
        x0, y0, x1, y1 = box if box else (0, 0, self.w, self.h)
        size = (max(1, round(x1 - x0)), max(1, round(y1 - y0)))
        if mask is not None and self.s > 1:
            mask = mask.resize(size, Image.Resampling.BOX)
        self.img.paste(gradient_image(stops, size), (round(x0), round(y0)), mask)

    def polygon_gradient(self, points: list[Point], stops: list[RGB]) -> None:
        """A polygon filled with a vertical gradient through `stops` over its own height."""
        xs, ys = [x for x, _ in points], [y for _, y in points]
        self._stamp(
            lambda area: gradient_image(stops, (area[2] - area[0], area[3] - area[1])),
            (min(xs), min(ys), max(xs), max(ys)),
            lambda d, at: d.polygon([at(x, y) for x, y in points], fill=255),
        )

    def translucent(self, fill: RGB, alpha: float, shapes: Callable[[ImageDraw.ImageDraw, int], None]) -> None:
        """Shapes drawn by `shapes(draw, scale)` on a mask of the whole canvas at `scale`
        (so mask coordinates are output pixels times `scale`), laid on in `fill` at `alpha`."""
        s = self.s
        mask = Image.new("L", (self.w * s, self.h * s), 0)
        shapes(ImageDraw.Draw(mask), s)
        area = mask.getbbox()  # only where something was drawn: the rest of the mask is empty
        if area is None:
            return
        # Whole output pixels, so that the reduced mask lines up with the canvas.
        x0, y0 = area[0] // s, area[1] // s
        x1, y1 = -(-area[2] // s), -(-area[3] // s)
        mask = mask.crop((x0 * s, y0 * s, x1 * s, y1 * s))
        if s > 1:
            mask = mask.reduce(s)
        if alpha < 1:
            mask = mask.point(lambda v: round(v * alpha))
        self.img.paste(fill, (x0, y0, x1, y1), mask)

    def glow(self, cx: float, cy: float, r: float, fill: RGB, strength: float, power: float = 2.0) -> None:
        """A soft round light of radius `r` fading out from its centre."""
        size = max(2, round(2 * r))
        lut = [round(255 * strength * max(0.0, 1 - v / 180) ** power) for v in range(256)]
        mask = Image.radial_gradient("L").point(lut).resize((size, size), Image.Resampling.BILINEAR)
        self.img.paste(fill, (round(cx - r), round(cy - r)), mask)

    def soften(self, radius: float) -> None:
        """Blur what is drawn so far (depth of field): cheaply, at half the size."""
        if radius <= 0:
            return
        small = self.img.reduce(2)
        small = small.filter(ImageFilter.GaussianBlur(radius / 2))
        self.img = small.resize(self.img.size, Image.Resampling.BILINEAR)

    def result(self) -> Image.Image:
        return self.img
