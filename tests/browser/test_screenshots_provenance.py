"""Screenshots of the image page's Content Credentials panel and the Privacy settings page,
at desktop and phone width, light and dark (test-output/screenshots/, or STUDIO_SHOTS_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generations import storage
from tests.browser.test_screenshots import VIEWPORTS, paint, shoot
from tests.studio_factories import make_generation

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_content_credentials_and_privacy(
    live_server, make_context, log_in, make_user, screenshot_dir, size, scheme
):
    folder = Path(os.environ.get("STUDIO_SHOTS_DIR") or screenshot_dir)
    folder.mkdir(parents=True, exist_ok=True)
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    user = make_user("ines")
    log_in(context, user)

    made = []
    for i, (prompt, embed) in enumerate(
        [('Lighthouse on a cliff at dusk, travel poster that says "Open late"', True), ("A quiet harbour", False)]
    ):
        g = make_generation(user, prompt=prompt, aspect_ratio="16:9", files=False, embed_parameters=embed)
        params = g.embedded_parameters()
        names = storage.save_images(g, paint(g.width, g.height, "#1e3a8a", "#f59e0b", i), params)
        g.image_png, g.image_webp, g.thumbnail = names["png"], names["webp"], names["thumbnail"]
        g.save()
        made.append(g)

    page.goto(f"{live_server.url}/images/{made[0].public_id}")
    panel = page.locator("[data-credentials]")
    assert "Valid" in panel.inner_text() and "Studio development signer" in panel.inner_text()
    shoot(page, folder, "content-credentials", size, scheme)

    page.goto(f"{live_server.url}/images/{made[1].public_id}")
    assert page.locator("[data-embed-off]").is_visible()
    shoot(page, folder, "content-credentials-embed-off", size, scheme)

    page.goto(f"{live_server.url}/accounts/settings/privacy")
    assert page.locator("#id_embed_parameters").is_checked()
    shoot(page, folder, "settings-privacy", size, scheme)
