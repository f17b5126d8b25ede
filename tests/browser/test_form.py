"""The prompt form in the browser: the live settings summary and Reset, nothing carried over unseen,
cancel with its refund, results first on a phone, and screenshots of the form and image pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from generations.models import Generation, Stage
from tests.browser.test_screenshots import VIEWPORTS, seed_gallery, shoot
from tests.studio_factories import make_generation

pytestmark = [pytest.mark.browser]
TIMEOUT = 60_000  # a cold worker on a busy two-core machine takes a while to start
PHONE = VIEWPORTS["phone"]


def summary(page):
    return page.locator("[data-summary]")


def test_the_summary_follows_every_control_and_reset_returns_the_defaults(
    live_server, page, context, log_in, make_user
):
    user = make_user(credits=100)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    for part in ("1:1", "Auto", "no palette", "deep thinking off", "1 image", "7 credits"):
        expect(summary(page)).to_contain_text(part)

    page.fill("#id_prompt", "Navy and gold art deco poster")
    page.click(".ratio:has(input[value='16:9'])")
    page.click(".chip:has(input[value='retro'])")
    page.click("[data-palette-add]")
    page.locator("#gen-form input[type=color]").nth(0).fill("#1e3a8a")
    page.click("label.switch")
    page.click("label:has(input[name=count][value='3'])")
    for part in ("16:9", "Retro", "1 colour", "deep thinking on", "3 images", "21 credits"):
        expect(summary(page)).to_contain_text(part)
    expect(page.locator("[data-sum=palette] .sum-dot")).to_have_count(1)
    page.click("summary.more-summary")
    page.fill("#id_negative_prompt", "red")
    expect(page.locator("[data-sum=avoid]")).to_be_visible()

    page.click("[data-reset]")
    for part in ("1:1", "Auto", "no palette", "deep thinking off", "1 image", "7 credits"):
        expect(summary(page)).to_contain_text(part)
    expect(page.locator("[data-sum=avoid]")).to_be_hidden()
    expect(page.locator("#gen-form [data-swatch]")).to_have_count(0)
    expect(page.locator("#id_deep_thinking")).not_to_be_checked()
    expect(page.locator("input[name=count][value='1']")).to_be_checked()
    expect(page.locator("#id_negative_prompt")).to_have_value("")
    expect(page.locator("#id_prompt")).to_have_value("Navy and gold art deco poster")  # the prompt stays
    expect(page.locator("[data-cost]")).to_have_text("7 credits \N{MULTIPLICATION SIGN} 1 = 7")


def test_after_generate_the_palette_deep_thinking_and_count_do_not_carry_over(
    live_server, page, context, log_in, make_user
):
    user = make_user(credits=100)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    page.fill("#id_prompt", "Red and cream poster")
    page.click("[data-palette-add]")
    page.click("label.switch")
    page.click("label:has(input[name=count][value='2'])")
    page.click("[data-generate]")
    expect(page.locator("#gallery .tile")).to_have_count(2)
    expect(page.locator("#credits-pill")).to_contain_text("86")
    expect(page.locator("#id_prompt")).to_have_value("Red and cream poster")
    expect(page.locator("#gen-form [data-swatch]")).to_have_count(0)
    expect(page.locator("#id_deep_thinking")).not_to_be_checked()
    expect(page.locator("input[name=count][value='1']")).to_be_checked()
    expect(summary(page)).to_contain_text("1 image")
    # The prompt comes back from history on the next visit, only when picked.
    page.goto(f"{live_server.url}/")
    expect(page.locator("#id_prompt")).to_have_value("")
    page.click("[data-prompt-history] > summary")
    page.click("[data-prompt-history] [data-example]")
    expect(page.locator("#id_prompt")).to_have_value("Red and cream poster")


def test_cancel_from_the_tile_and_the_image_page_shows_the_refund(live_server, page, context, log_in, make_user):
    user = make_user(credits=100)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    page.fill("#id_prompt", "A queued lighthouse")
    page.click("label:has(input[name=count][value='2'])")
    page.click("[data-generate]")  # no worker runs here: both stay queued
    expect(page.locator("#credits-pill")).to_contain_text("86")
    first, second = Generation.objects.order_by("batch_index")
    tile = page.locator(f"#gen-{first.public_id}")
    tile.locator("[data-cancel]").click()
    expect(tile.locator(".tile-status")).to_contain_text("Canceled")
    expect(tile.locator(".tile-refund")).to_have_text("7 credits refunded")
    expect(page.locator("#credits-pill")).to_contain_text("93")

    page.goto(f"{live_server.url}/images/{second.public_id}")
    page.click("[data-cancel]")
    expect(page.locator("[data-refund]")).to_have_text("Canceled · 7 credits refunded")
    expect(page.locator("#credits-pill")).to_contain_text("100")
    assert set(Generation.objects.values_list("stage", flat=True)) == {Stage.CANCELED}


def test_on_a_phone_the_new_tiles_come_into_view_and_the_form_folds(studio_server, make_context, log_in, make_user):
    user = make_user(credits=100)
    for i in range(6):
        make_generation(user, prompt=f"Older image {i}", files=False)
    context = make_context(viewport=PHONE, device_scale_factor=1)
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{studio_server.url}/")
    page.fill("#id_prompt", "A phone-first lighthouse")
    page.click("[data-generate]")
    new = page.locator("#gallery .tile").first
    expect(new).to_contain_text("A phone-first lighthouse")
    expect(page.locator("#gen-form")).to_have_class(re.compile(r"\bis-collapsed\b"))
    expect(page.locator("[data-form-toggle]")).to_have_attribute("aria-expanded", "false")
    expect(new).to_be_in_viewport()
    try:
        expect(new).to_have_attribute("data-stage", "completed", timeout=TIMEOUT)
    except AssertionError:
        raise AssertionError(f"the image never arrived; worker log:\n{studio_server.worker.log()}") from None
    page.click("[data-form-toggle]")
    expect(page.locator("#id_prompt")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_the_form_and_image_pages(
    live_server, make_context, log_in, make_user, screenshot_dir, size, scheme
):
    folder = screenshot_dir / "issue13-form"
    folder.mkdir(exist_ok=True)
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    base = live_server.url
    user = make_user("dana", tier="pro", credits=400)
    log_in(context, user)
    made = seed_gallery(user)
    queued = make_generation(user, prompt="A queued harbour at night", stage=Stage.QUEUED, negative_prompt="people")
    page.goto(f"{base}/?from={made[6].public_id}&mode=remix")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, folder, "studio", size, scheme)
    page.click("[data-prompt-history] > summary")
    page.screenshot(path=str(folder / f"studio-history-{size}-{scheme}.png"))
    page.goto(f"{base}/images/{made[0].public_id}")
    shoot(page, folder, "image", size, scheme)
    page.goto(f"{base}/images/{queued.public_id}")
    shoot(page, folder, "image-queued", size, scheme)


def test_the_model_picker_says_which_engine_is_an_offline_preview(
    live_server, page, context, log_in, make_user, settings
):
    settings.STUDIO_MODELS = {
        "seedream-5.0-lite": {"engine": "typeset", "options": {}},
        "gpt-image-1": {"engine": "openai", "options": {"model": "gpt-image-1"}},
    }
    log_in(context, make_user(credits=100))
    page.goto(f"{live_server.url}/")
    expect(page.locator("[data-offline-note]")).to_be_visible()
    expect(page.locator("[data-sum=model]")).to_have_text("seedream-5.0-lite · preview")
    page.select_option("[data-model-select]", "gpt-image-1")
    expect(page.locator("[data-offline-note]")).to_be_hidden()
    expect(page.locator("[data-sum=model]")).to_have_text("gpt-image-1")
    page.click("[data-reset]")
    expect(page.locator("[data-model-select]")).to_have_value("seedream-5.0-lite")
    expect(page.locator("[data-offline-note]")).to_be_visible()
