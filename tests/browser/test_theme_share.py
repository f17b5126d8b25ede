"""In a browser: the theme switch is remembered across reloads, share links open for a stranger,
filter URLs carry only what is set, toasts leave a phone's form alone; and screenshots of the
landing, share and settings pages (test-output/screenshots/issue13-share/) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from generations import services, specs, storage
from generations.engines import engine_class
from generations.models import Generation
from tests.studio_factories import make_generation

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
DARK_BG = "rgb(15, 15, 19)"  # --bg in the dark theme
LIGHT_BG = "rgb(246, 246, 248)"


def body_background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def typeset_generation(user: User, prompt: str, aspect_ratio: str = "3:4", **extra):
    """A completed generation whose files are the typeset engine's real render of `prompt`."""
    g = make_generation(user, prompt=prompt, aspect_ratio=aspect_ratio, files=False, **extra)
    Generation.objects.filter(pk=g.pk).update(engine="typeset")
    g.engine = "typeset"
    spec = specs.build_spec(
        {"prompt": prompt, "aspect_ratio": aspect_ratio, "style": g.style, "colors": g.colors or None, "seed": g.seed},
        require_model=False,
    )
    image = engine_class("typeset")().render(spec, lambda fraction, note: None).image
    names = storage.save_images(g, image, g.parameters())
    g.image_png, g.image_webp, g.thumbnail, g.file_size = (
        names["png"],
        names["webp"],
        names["thumbnail"],
        names["png_size"],
    )
    g.save(update_fields=["image_png", "image_webp", "thumbnail", "file_size"])
    return g


def test_the_theme_switch_is_remembered_across_reloads(live_server, make_context, log_in, make_user):
    user = make_user("dana")
    context = make_context(color_scheme="light")
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('accounts:credits')}")
    html = page.locator("html")
    expect(html).not_to_have_attribute("data-theme", "dark")
    assert body_background(page) == LIGHT_BG

    toggle = page.locator("[data-theme-toggle] button")
    expect(toggle).to_have_attribute("aria-label", "Switch to dark theme")
    with page.expect_response(lambda r: r.url.endswith(reverse("accounts:appearance")) and r.ok):
        toggle.click()
    expect(html).to_have_attribute("data-theme", "dark")  # at once, without a reload
    expect(toggle).to_have_attribute("aria-label", "Switch to light theme")

    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")  # from the server: no flash of light
    assert body_background(page) == DARK_BG
    user.refresh_from_db()
    assert user.theme == "dark"

    with page.expect_response(lambda r: r.url.endswith(reverse("accounts:appearance")) and r.ok):
        page.locator("[data-theme-toggle] button").click()
    page.goto(f"{live_server.url}{reverse('teams:list')}")
    expect(html).to_have_attribute("data-theme", "light")
    assert body_background(page) == LIGHT_BG


def test_the_system_theme_follows_the_os_and_the_switch_flips_what_is_shown(
    live_server, make_context, log_in, make_user
):
    user = make_user("dana")
    context = make_context(color_scheme="dark")
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('accounts:appearance')}")
    assert page.locator("html").get_attribute("data-theme") is None
    assert body_background(page) == DARK_BG  # "system" on a dark OS
    with page.expect_response(lambda r: r.url.endswith(reverse("accounts:appearance")) and r.ok):
        page.locator("[data-theme-toggle] button").click()  # shown dark, so it switches to light
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.locator('input[name="theme"][value="light"]')).to_be_checked()

    page.locator("label.theme-choice-system").click()
    page.get_by_role("button", name="Save theme").click()
    expect(page.locator(".toast")).to_contain_text("Theme saved: system.")
    assert page.locator("html").get_attribute("data-theme") is None
    assert body_background(page) == DARK_BG


def test_signed_out_visitors_get_the_os_setting(live_server, make_context):
    page = make_context(color_scheme="dark").new_page()
    page.goto(f"{live_server.url}/")
    expect(page.locator("#landing-title")).to_be_visible()
    assert body_background(page) == DARK_BG
    assert page.locator("[data-theme-toggle]").count() == 0


def test_a_share_link_opens_the_image_for_someone_without_an_account(live_server, make_context, log_in, make_user):
    user = make_user("dana")
    g = typeset_generation(
        user, "Poster with text 'OPEN LATE' in bold red font", style="retro", colors=["#ff5a36", "#1d2b53"]
    )
    context = make_context()
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('generations:image', args=[g.public_id])}")
    page.get_by_role("button", name="Share link").click()
    url_field = page.locator("#share-url")
    expect(url_field).to_be_visible()
    expect(page.locator(".share-panel")).to_contain_text("(7 days)")
    url = url_field.input_value()
    assert url.startswith(f"{live_server.url}/s/")

    stranger = make_context().new_page()
    stranger.goto(url)
    image = stranger.locator(".share-page .image-stage img")
    expect(image).to_be_visible()
    stranger.wait_for_function("document.querySelector('.share-page .image-stage img').naturalWidth > 0")
    expect(stranger.locator("#image-prompt")).to_have_text("Poster with text 'OPEN LATE' in bold red font")
    with stranger.expect_download() as download:
        stranger.locator('[data-download="png"]').click()
    assert download.value.suggested_filename.endswith(".png")
    # A tampered or expired link (403, 410) is tests/test_share.py's: an error status is a console error here.


def test_filter_urls_carry_only_the_fields_that_are_set(live_server, make_context, log_in, make_user):
    user = make_user("dana")
    make_generation(user, prompt="A poster of a lighthouse")
    context = make_context()
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.locator('#filters input[name="q"]').fill("poster")
    expect(page).to_have_url(f"{live_server.url}/?q=poster")


def test_toasts_on_a_phone_leave_the_form_uncovered(live_server, make_context, log_in, make_user):
    user = make_user("dana")
    context = make_context(viewport=VIEWPORTS["phone"])
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('accounts:appearance')}")
    page.locator("label.theme-choice-dark").click()
    page.get_by_role("button", name="Save theme").click()
    toast = page.locator(".toast")
    expect(toast).to_be_visible()
    toast_box, field_box = toast.bounding_box(), page.locator("label.theme-choice-system").bounding_box()
    assert toast_box["y"] + toast_box["height"] <= field_box["y"], (toast_box, field_box)


def _shoot(page, folder: Path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-page in a full-page shot
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_screenshots(live_server, make_context, log_in, make_user, screenshot_dir, viewport, scheme):
    folder = screenshot_dir / "issue13-share"
    folder.mkdir(parents=True, exist_ok=True)
    size = VIEWPORTS[viewport]
    user = make_user("dana", tier="pro", credits=1000)
    User.objects.filter(pk=user.pk).update(theme=scheme)
    g = typeset_generation(
        user, "Poster with text 'OPEN LATE' in bold red font", style="retro", colors=["#ff5a36", "#1d2b53"]
    )
    batch_spec = specs.build_spec({"prompt": "Jazz night poster, 'BLUE NOTES'"}, require_model=False)
    services.submit_batch(user=user, specs_=[batch_spec] * 12)  # one row of the credits history

    anonymous = make_context(viewport=size, color_scheme=scheme).new_page()
    anonymous.goto(f"{live_server.url}/")
    anonymous.wait_for_function("Array.from(document.images).every((img) => img.complete && img.naturalWidth > 0)")
    _shoot(anonymous, folder, f"landing-{viewport}-{scheme}")

    member = make_context(viewport=size, color_scheme="light" if scheme == "dark" else "dark")  # the saved theme wins
    log_in(member, user)
    page = member.new_page()
    page.goto(f"{live_server.url}{reverse('generations:image', args=[g.public_id])}")
    if viewport == "desktop":
        page.locator("#share-panel").screenshot(path=str(folder / f"image-share-button-{scheme}.png"))
    page.get_by_role("button", name="Share link").click()
    expect(page.locator("#share-url")).to_be_visible()
    share_url = page.locator("#share-url").input_value()
    _shoot(page, folder, f"image-share-link-{viewport}-{scheme}")

    anonymous.goto(share_url)
    anonymous.wait_for_function("document.querySelector('.share-page .image-stage img').naturalWidth > 0")
    _shoot(anonymous, folder, f"share-{viewport}-{scheme}")

    page.goto(f"{live_server.url}{reverse('accounts:appearance')}")
    _shoot(page, folder, f"settings-appearance-{viewport}-{scheme}")
    page.goto(f"{live_server.url}{reverse('accounts:credits')}")
    _shoot(page, folder, f"settings-credits-{viewport}-{scheme}")
