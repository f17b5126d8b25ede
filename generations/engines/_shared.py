"""What the neural engines (`ark`, `openai`, `diffusers`) share: the prompt they send and the exact-size fit.

A neural model has no fields for Studio's style and palette, so both travel as words after
the user's prompt. A model renders at sizes of its own, so its picture is scaled to cover
the spec's size and centre-cropped, never squeezed or letterboxed.
"""

from __future__ import annotations

from PIL import Image, ImageOps

from generations.specs import STYLES, Spec


def styled_prompt(spec: Spec) -> str:
    """The prompt as sent: the user's words, then the style and the palette, so both reach the model."""
    lines = [spec.prompt]
    if spec.style in STYLES:
        if spec.style != "auto":
            lines.append(f"Style: {STYLES[spec.style]}.")
    elif spec.style.strip():
        lines.append(f"Style: {spec.style.strip()}.")  # a free-text style is sent as written
    if spec.colors:
        lines.append(f"Colour palette: {', '.join(spec.colors)}.")
    return "\n".join(lines)


def fit_to_size(image: Image.Image, width: int, height: int) -> Image.Image:
    """`image` as RGB, scaled to cover width x height and centre-cropped (no letterboxing)."""
    image = image.convert("RGB")
    if image.size != (width, height):
        image = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    return image
