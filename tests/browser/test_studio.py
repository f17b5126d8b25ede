"""A designer's day in the browser: sign up, generate, watch, review, download, search, reuse."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from accounts.models import User
from generations.models import Generation, Stage, Star
from tests.studio_factories import make_generation

TIMES = "\N{MULTIPLICATION SIGN}"

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
TIMEOUT = 60_000  # a cold worker on a busy two-core machine takes a while to start


def sign_up(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/signup")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", "a-long-pass-phrase-42")
    page.fill("#id_password2", "a-long-pass-phrase-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_sign_up_generate_watch_review_download_search_and_reuse(studio_server, page):
    base = studio_server.url
    sign_up(page, base, "dana")
    expect(page.locator("#credits-pill")).to_contain_text("50")
    expect(page.locator("#gallery-empty")).to_contain_text("Your images will appear here")

    prompt = 'Lighthouse harbour travel poster that says "Open late"'
    page.fill("#id_prompt", prompt)
    expect(page.locator("[data-char-count]")).to_have_text(f"{len(prompt)} / 1000")
    page.click(".ratio:has(input[value='16:9'])")
    expect(page.locator("[data-ratio-size]")).to_have_text(f"1360 {TIMES} 768 px")
    page.click(".chip:has(input[value='watercolor'])")
    expect(page.locator("[data-style-help]")).to_have_text("Watercolor painting effect")
    page.click("[data-palette-add]")
    page.click("[data-palette-add]")
    colours = page.locator("#gen-form input[type=color]")
    colours.nth(0).fill("#ff6600")
    colours.nth(1).fill("#1e3a8a")
    expect(page.locator("#gen-form .swatch-hex").nth(1)).to_have_text("#1e3a8a")
    page.click("label.switch")
    expect(page.locator("#id_deep_thinking")).to_be_checked()
    expect(page.locator("[data-cost]")).to_have_text(f"7 credits {TIMES} 1 = 7")
    # Record every progress value the gallery shows, as HTMX swaps the polling tile.
    page.evaluate(
        """() => {
          window.seenProgress = [];
          new MutationObserver(() => {
            document.querySelectorAll('#gallery .tile progress').forEach(p => window.seenProgress.push(p.value));
          }).observe(document.querySelector('#gallery'), {childList: true, subtree: true});
        }"""
    )
    page.locator("#id_prompt").press("Control+Enter")

    # The tile appears at once with a progress bar, moves, and becomes the thumbnail.
    tile = page.locator("#gallery .tile").first
    expect(tile.locator("progress")).to_be_visible()
    try:
        expect(tile.locator("img")).to_be_visible(timeout=TIMEOUT)
    except AssertionError:
        raise AssertionError(f"the image never arrived; worker log:\n{studio_server.worker.log()}") from None
    expect(tile.locator("progress")).to_have_count(0)
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < 1 for value in seen), f"progress was shown moving: {seen}"
    expect(page.locator("#credits-pill")).to_contain_text("43")
    # The fresh form kept the settings.
    expect(page.locator("#id_prompt")).to_have_value(prompt)
    expect(page.locator("input[name=aspect_ratio][value='16:9']")).to_be_checked()

    g = Generation.objects.get(user__username="dana")
    assert (g.aspect_ratio, g.style, g.colors, g.deep_thinking) == ("16:9", "watercolor", ["#ff6600", "#1e3a8a"], True)

    # The image page shows what was chosen.
    tile.locator(".tile-link").click()
    page.wait_for_url(f"{base}/images/{g.public_id}")
    expect(page.locator("[data-param=aspect_ratio]")).to_have_text("16:9")
    expect(page.locator("[data-param=size]")).to_have_text(f"1360 {TIMES} 768")
    expect(page.locator("[data-param=style]")).to_contain_text("watercolor")
    expect(page.locator("[data-param=colors]")).to_contain_text("#ff6600")
    expect(page.locator("[data-param=colors]")).to_contain_text("#1e3a8a")
    expect(page.locator("[data-param=deep_thinking]")).to_have_text("On")
    expect(page.locator("[data-param=seed]")).to_have_text(str(g.seed))

    # The PNG downloads under a name from the prompt and is the size asked for.
    with page.expect_download() as info:
        page.click("[data-download=png]")
    download = info.value
    assert download.suggested_filename.startswith("lighthouse-harbour-travel-poster")
    with Image.open(download.path()) as png:
        assert (png.format, png.size) == ("PNG", (1360, 768))

    # Search finds it by a word of its prompt (and not the other image).
    make_generation(User.objects.get(username="dana"), prompt="A quiet forest path", files=False)
    page.goto(f"{base}/")
    expect(page.locator("#gallery .tile")).to_have_count(2)
    page.keyboard.press("/")
    expect(page.locator("[data-search]")).to_be_focused()
    page.keyboard.type("harbour")
    page.wait_for_url(re.compile(r"q=harbour"))
    expect(page.locator("#gallery .tile")).to_have_count(1)
    expect(page.locator(f"#gen-{g.public_id}")).to_be_visible()

    # Use all refills the form with every setting, seed included.
    page.goto(f"{base}/images/{g.public_id}")
    page.click("[data-use=all]")
    expect(page.locator("#id_prompt")).to_have_value(prompt)
    expect(page.locator("input[name=aspect_ratio][value='16:9']")).to_be_checked()
    expect(page.locator("input[name=style][value='watercolor']")).to_be_checked()
    assert page.locator("#gen-form input[type=color]").evaluate_all("els => els.map(e => e.value)") == [
        "#ff6600",
        "#1e3a8a",
    ]
    expect(page.locator("#id_deep_thinking")).to_be_checked()
    expect(page.locator("input[name=seed_mode][value=fixed]")).to_be_checked()
    expect(page.locator("#id_seed")).to_have_value(str(g.seed))


def test_a_bad_prompt_and_a_short_balance_are_explained_in_the_form(live_server, page, context, log_in, make_user):
    user = make_user(credits=10)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    page.click("[data-generate]")
    expect(page.locator("#prompt-error")).to_have_text(re.compile("prompt must not be empty"))
    expect(page.locator("#id_prompt")).to_have_attribute("aria-invalid", "true")

    page.fill("#id_prompt", "Two foxes")
    page.click("label:has(input[name=count][value='2'])")
    expect(page.locator("[data-cost]")).to_have_text(f"7 credits {TIMES} 2 = 14")
    expect(page.locator("[data-cost-short]")).to_be_visible()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".form-errors")).to_contain_text("Required: 14, Available: 10")
    assert not Generation.objects.exists()


def test_the_gallery_polls_once_for_all_its_pending_tiles_and_stops_when_none_are(
    live_server, page, context, log_in, make_user
):
    user = make_user()
    pending = [make_generation(user, stage=Stage.QUEUED, prompt=f"waiting {i}") for i in range(3)]
    log_in(context, user)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/tiles" in r.url else None)
    page.goto(f"{live_server.url}/")
    expect(page.locator(".tile.is-pending")).to_have_count(3)
    expect(page.locator(".tile.is-pending").first).to_contain_text("in line")
    page.wait_for_function(
        "n => window.performance.getEntriesByType('resource').filter(e => e.name.includes('/tiles')).length >= n", arg=2
    )
    for url in polls:  # one request names every pending tile: none polls by itself
        query = parse_qs(urlsplit(url).query)
        assert urlsplit(url).path == "/tiles" and set(query["pending"]) == {g.public_id for g in pending}

    Generation.objects.filter(pk__in=[g.pk for g in pending]).update(stage=Stage.COMPLETED, progress=1.0)
    expect(page.locator(".tile.is-pending")).to_have_count(0, timeout=TIMEOUT)
    expect(page.locator(".tile img")).to_have_count(3)
    assert page.evaluate("!!document.querySelector('.tile-pending-id')") is False  # the poll's condition
    asked = len(polls)
    page.wait_for_timeout(2500)  # watching, not waiting for something: two intervals without a poll
    assert len(polls) == asked


def test_select_a_range_with_shift_click_then_star_it(live_server, page, context, log_in, make_user):
    user = make_user()
    gens = [make_generation(user, prompt=f"image {i}") for i in range(5)]
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    bar = page.locator("#selection-form")
    expect(bar).to_be_hidden()
    checks = page.locator(".tile-check")
    checks.nth(0).check()
    expect(bar).to_be_visible()
    checks.nth(3).click(modifiers=["Shift"])
    expect(page.locator("[data-selection-count]")).to_have_text("4 selected")
    expect(page.locator(".tile.is-selected")).to_have_count(4)
    # While selecting, clicking a tile toggles it rather than opening it.
    page.locator(".tile-link").nth(4).click()
    expect(page.locator("[data-selection-count]")).to_have_text("5 selected")
    page.locator(".tile-link").nth(4).click()
    bar.locator("button[value=star]").click()
    page.wait_for_load_state()
    expect(page.locator(".toast")).to_contain_text("Starred 4 images")
    newest_four = {g.pk for g in gens[1:]}
    assert set(Star.objects.values_list("generation_id", flat=True)) == newest_four
    expect(page.locator(".tile-star")).to_have_count(4)


def test_delete_a_selection_after_confirming_in_a_dialog(live_server, page, context, log_in, make_user):
    user = make_user()
    keep, doomed = make_generation(user, prompt="keep"), make_generation(user, prompt="doomed")
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    page.locator(f"#gen-{doomed.public_id} .tile-check").check()
    page.click("#selection-form button[value=delete]")
    dialog = page.locator("#bulk-delete")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete 1 image?")
    dialog.get_by_role("button", name="Keep them").click()
    expect(dialog).to_be_hidden()
    assert Generation.objects.count() == 2
    page.click("#selection-form button[value=delete]")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(".toast")).to_contain_text("Deleted 1 image")
    expect(page.locator("#gallery .tile")).to_have_count(1)
    assert list(Generation.objects.values_list("pk", flat=True)) == [keep.pk]


def test_image_page_keys_star_and_move_between_images(live_server, page, context, log_in, make_user):
    user = make_user()
    older, newer = make_generation(user, prompt="older one"), make_generation(user, prompt="newer one")
    log_in(context, user)
    page.goto(f"{live_server.url}/images/{newer.public_id}")
    page.keyboard.press("s")
    expect(page.locator("[data-star-button]")).to_have_attribute("aria-pressed", "true")
    assert Star.objects.filter(user=user, generation=newer).exists()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"{live_server.url}/images/{older.public_id}")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"{live_server.url}/images/{newer.public_id}")

    page.click("text=Delete image…")
    expect(page.locator("#delete-dialog")).to_be_visible()
    page.locator("#delete-dialog button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    assert not Generation.objects.filter(pk=newer.pk).exists()


def test_question_mark_opens_the_shortcuts_and_escape_closes_them(live_server, page, context, log_in, make_user):
    log_in(context, make_user())
    page.goto(f"{live_server.url}/")
    page.keyboard.press("?")
    overlay = page.locator("#shortcuts")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Generate from the prompt box")
    page.keyboard.press("Escape")
    expect(overlay).to_be_hidden()


def test_a_filter_change_updates_the_gallery_in_place_and_the_address(live_server, page, context, log_in, make_user):
    user = make_user()
    make_generation(user, prompt="tall", aspect_ratio="9:16", files=False)
    make_generation(user, prompt="wide", aspect_ratio="16:9", files=False)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    page.fill("#id_prompt", "draft that must survive")
    page.select_option("select[name=aspect_ratio]", "9:16")
    page.wait_for_url(re.compile(r"aspect_ratio=9%3A16"))
    expect(page.locator("#gallery .tile")).to_have_count(1)
    expect(page.locator("#id_prompt")).to_have_value("draft that must survive")  # the form was not reloaded
