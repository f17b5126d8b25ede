"""Screenshots of every studio page at desktop and phone width, in light and dark schemes.

They land in test-output/screenshots/<page>-<desktop|phone>-<light|dark>.png for a person
to look at; the test itself checks that each page rendered without a browser error and
without sideways scrolling (the commonest way a layout breaks on a phone).
"""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from generations import exports, storage
from generations.models import Export, Stage, Star
from tests.studio_factories import make_generation

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
PALETTES = [
    ("#1e3a8a", "#f59e0b"), ("#f472b6", "#fde68a"), ("#0f766e", "#e2e8f0"), ("#7c3aed", "#f97316"),
    ("#334155", "#facc15"), ("#be123c", "#fecdd3"), ("#0ea5e9", "#f1f5f9"), ("#14532d", "#bef264"),
]  # fmt: skip
PROMPTS = [
    ('Lighthouse on a cliff at dusk, travel poster that says "Open late"', "16:9", "retro"),
    ("Minimal product shot of a ceramic mug on a pastel background", "1:1", "minimalist"),
    ("Watercolor fox in a snowy birch forest, soft morning light", "3:4", "watercolor"),
    ("Synthwave city skyline with a giant setting sun", "16:9", "digital-art"),
    ("Harbour with fishing boats at golden hour, oil on canvas", "3:2", "oil-painting"),
    ("Girl reading under a cherry tree, petals falling", "9:16", "anime"),
    ('Jazz night poster, bold type "Blue Notes", navy and gold', "3:4", "retro"),
    ("Mountain lake reflection at sunrise, mist over the water", "4:3", "photorealistic"),
    ("Isometric cosy bedroom with plants and a sleeping cat", "1:1", "digital-art"),
    ("Abstract geometric pattern in terracotta and sage", "1:1", "minimalist"),
]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def paint(width: int, height: int, top: str, bottom: str, index: int) -> Image.Image:
    """A gradient with a sun and hills: enough to see how the grid and the image page frame images."""
    small = Image.new("RGB", (width // 4, height // 4))
    draw = ImageDraw.Draw(small)
    a, b = _rgb(top), _rgb(bottom)
    for y in range(small.height):
        t = y / max(1, small.height - 1)
        draw.line([(0, y), (small.width, y)], fill=tuple(round(a[c] * (1 - t) + b[c] * t) for c in range(3)))
    r = min(small.size) // 5
    cx, cy = small.width * (0.3 + 0.1 * (index % 4)), small.height * 0.42
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=b)
    hill = tuple(round(v * 0.55) for v in a)
    draw.polygon([(0, small.height), (0, small.height * 0.75), (small.width * 0.45, small.height * 0.6),
                  (small.width, small.height * 0.8), (small.width, small.height)], fill=hill)  # fmt: skip
    return small.resize((width, height), Image.Resampling.BICUBIC)


def seed_gallery(user) -> list:
    made = []
    for i, (prompt, ratio, style) in enumerate(PROMPTS):
        top, bottom = PALETTES[i % len(PALETTES)]
        g = make_generation(user, prompt=prompt, aspect_ratio=ratio, style=style, colors=[top, bottom],
                            deep_thinking=i % 3 == 0, seed=1000 + i * 7919, files=False,
                            plan={"layout": "hero image with a headline band", "candidates": 4, "chosen": 2,
                                  "quoted_text": ["Open late"], "score": 0.87} if i % 3 == 0 else {})  # fmt: skip
        names = storage.save_images(g, paint(g.width, g.height, top, bottom, i), g.parameters())
        g.image_png, g.image_webp, g.thumbnail, g.file_size = names["png"], names["webp"], names["thumbnail"], 0
        g.save()
        made.append(g)
    Star.objects.create(user=user, generation=made[2])
    Star.objects.create(user=user, generation=made[5])
    make_generation(user, prompt='Neon sign reading "Closed" in the rain', stage=Stage.FAILED,
                    error_message="The engine could not render this prompt.")  # fmt: skip
    make_generation(user, prompt="A paper boat on a puddle, rainy street", stage=Stage.RENDERING, progress=0.42,
                    progress_note="composing layout")  # fmt: skip
    return made


def shoot(page, folder, name: str, size: str, scheme: str) -> None:
    # Load every lazy image first, so the full-page picture shows the whole grid.
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.evaluate("document.fonts.ready")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size} width"
    page.screenshot(path=str(folder / f"{name}-{size}-{scheme}.png"), full_page=True)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_every_studio_page(live_server, make_context, log_in, make_user, screenshot_dir, size, scheme):
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    base = live_server.url

    newcomer = make_user("newcomer")
    log_in(context, newcomer)
    page.goto(f"{base}/")
    shoot(page, screenshot_dir, "studio-empty", size, scheme)

    poor = make_user("poor", credits=10)
    context.clear_cookies()
    log_in(context, poor)
    page.goto(f"{base}/")
    page.fill("#id_prompt", "Two foxes in a field")
    page.click("label:has(input[name=count][value='2'])")
    page.click(".ratio:has(input[value='9:16'])")
    page.click("[data-more] > summary")  # the seed is under "More"
    page.fill("#id_seed", "-5")
    page.click("[data-generate]")
    page.locator("#seed-error").wait_for()
    shoot(page, screenshot_dir, "studio-form-errors", size, scheme)

    user = make_user("dana", tier="pro", credits=400)
    context.clear_cookies()
    log_in(context, user)
    made = seed_gallery(user)
    page.goto(f"{base}/")
    page.click("[data-palette-add]")
    page.click("[data-palette-add]")
    page.evaluate("document.querySelector('.studio-panel').scrollTop = 0; window.scrollTo(0, 0)")
    shoot(page, screenshot_dir, "studio", size, scheme)

    page.locator(".tile-check").nth(2).check()
    page.locator(".tile-check").nth(5).click(modifiers=["Shift"])
    shoot(page, screenshot_dir, "studio-selection", size, scheme)

    page.goto(f"{base}/?q=zebra")
    shoot(page, screenshot_dir, "studio-no-match", size, scheme)

    page.goto(f"{base}/")
    page.keyboard.press("?")
    page.locator("#shortcuts").wait_for()
    page.screenshot(path=str(screenshot_dir / f"shortcuts-{size}-{scheme}.png"))
    page.keyboard.press("Escape")

    page.goto(f"{base}/images/{made[0].public_id}")
    shoot(page, screenshot_dir, "image", size, scheme)
    page.goto(f"{base}/images/{made[5].public_id}")
    shoot(page, screenshot_dir, "image-tall", size, scheme)
    page.click("text=Delete image…")
    page.locator("#delete-dialog").wait_for()
    page.screenshot(path=str(screenshot_dir / f"image-delete-dialog-{size}-{scheme}.png"))
    page.keyboard.press("Escape")

    failed = user.generations.get(stage=Stage.FAILED)
    page.goto(f"{base}/images/{failed.public_id}")
    shoot(page, screenshot_dir, "image-failed", size, scheme)

    page.goto(f"{base}/images/{made[1].public_id}/delete")
    shoot(page, screenshot_dir, "confirm-delete", size, scheme)

    building = Export.objects.create(user=user, generation_ids=[g.pk for g in made], total=len(made), done=4,
                                     state=Export.State.BUILDING)  # fmt: skip
    page.goto(f"{base}/exports/{building.public_id}")
    shoot(page, screenshot_dir, "export-building", size, scheme)
    ready = Export.objects.create(user=user, generation_ids=[g.pk for g in made], total=len(made))
    exports.build_export(ready.pk)
    page.goto(f"{base}/exports/{ready.public_id}")
    shoot(page, screenshot_dir, "export-ready", size, scheme)
    assert default_storage.exists(Export.objects.get(pk=ready.pk).file)
