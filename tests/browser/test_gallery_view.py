"""Seeing the whole image: true-aspect tiles, the lightbox, and selecting tiles in the gallery."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.studio_factories import make_generation

pytestmark = pytest.mark.browser

# The rendered box of every tile's image, its natural size and the shape the generation asked for.
TILE_SHAPES = """() => Array.from(document.querySelectorAll('#gallery .tile')).map(t => {
  const img = t.querySelector('img'), box = img.getBoundingClientRect(), tile = t.getBoundingClientRect();
  return {id: t.dataset.id, w: Number(t.style.getPropertyValue('--w')), h: Number(t.style.getPropertyValue('--h')),
          boxW: box.width, boxH: box.height, tileW: tile.width, tileH: tile.height,
          naturalW: img.naturalWidth, naturalH: img.naturalHeight, fit: getComputedStyle(img).objectFit};
})"""


def all_images_loaded(page) -> None:
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#gallery img')).every(i => i.complete && i.naturalWidth > 0)"
    )


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_tall_and_wide_tiles_show_the_whole_image_at_its_shape(live_server, make_context, log_in, make_user, viewport):
    user = make_user()
    for ratio in ("9:16", "16:9", "1:1", "4:3"):
        make_generation(user, prompt=f'Poster that says "VINYL FRIDAY" at {ratio}', aspect_ratio=ratio)
    context = make_context(viewport=viewport)
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    all_images_loaded(page)
    shapes = page.evaluate(TILE_SHAPES)
    assert len(shapes) == 4
    for s in shapes:
        want = s["w"] / s["h"]
        assert s["boxW"] / s["boxH"] == pytest.approx(want, rel=0.02), s  # the img box is the image's shape
        assert s["tileW"] / s["tileH"] == pytest.approx(want, rel=0.02), s  # and so is the tile: no crop
        assert s["naturalW"] / s["naturalH"] == pytest.approx(want, rel=0.02), s
        assert s["fit"] != "cover", s
        assert s["boxW"] <= s["tileW"] + 0.5 and s["boxH"] <= s["tileH"] + 0.5, s
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_pending_tiles_keep_their_shape_until_the_image_arrives(live_server, page, context, log_in, make_user):
    user = make_user()
    make_generation(user, prompt="tall one", aspect_ratio="9:16", stage="rendering", progress=0.3)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    tile = page.locator("#gallery .tile.is-pending")
    expect(tile).to_have_count(1)
    box = tile.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(768 / 1360, rel=0.02)


def lightbox_image_loaded(page) -> None:
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-lb-img]'); return i.complete && i.naturalWidth > 0 && !!i.src; }"
    )


def test_the_lightbox_opens_moves_zooms_closes_and_has_an_address(live_server, page, context, log_in, make_user):
    user = make_user()
    oldest, middle, newest = (
        make_generation(user, prompt="oldest square", aspect_ratio="1:1"),
        make_generation(user, prompt="middle tall", aspect_ratio="9:16"),
        make_generation(user, prompt="newest wide", aspect_ratio="16:9"),
    )
    log_in(context, user)
    base = live_server.url
    page.goto(f"{base}/")
    lightbox = page.locator("#lightbox")
    expect(lightbox).to_be_hidden()

    # A click on the image opens it full size, with its place in the gallery and its own address.
    page.locator(f"#gen-{newest.public_id} .tile-img").click()
    expect(lightbox).to_be_visible()
    expect(lightbox).to_have_attribute("aria-modal", "true")
    expect(lightbox.locator("[data-lb-position]")).to_have_text("1 of 3")
    expect(lightbox.locator("[data-lb-prompt]")).to_have_text("newest wide")
    expect(page).to_have_url(re.compile(rf"\?view={newest.public_id}$"))
    expect(lightbox.locator("[data-lb-page]")).to_have_attribute("href", f"/images/{newest.public_id}")
    expect(lightbox.get_by_role("button", name=re.compile("Close"))).to_be_visible()
    lightbox_image_loaded(page)
    assert ".webp" in page.locator("[data-lb-img]").get_attribute("src")

    # The arrows move through the tiles in order.
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"view={middle.public_id}"))
    expect(lightbox.locator("[data-lb-position]")).to_have_text("2 of 3")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"view={oldest.public_id}"))
    expect(lightbox.locator("[data-lb-next]")).to_be_disabled()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"view={middle.public_id}"))

    # 100 % is the image's own pixels; the arrows then pan instead of moving on.
    lightbox_image_loaded(page)
    page.keyboard.press("1")
    expect(lightbox.locator("[data-lb-zoom]")).to_have_attribute("aria-pressed", "true")
    size = page.evaluate(
        "() => { const i = document.querySelector('[data-lb-img]'); return [i.getBoundingClientRect().width, i.naturalWidth, i.getBoundingClientRect().height, i.naturalHeight]; }"
    )
    assert size == [768, 768, 1360, 1360]
    stage = page.locator("[data-lb-stage]")
    before = stage.evaluate("s => s.scrollTop")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("n => document.querySelector('[data-lb-stage]').scrollTop > n", arg=before)
    expect(page).to_have_url(re.compile(rf"view={middle.public_id}"))
    # Dragging pans too.
    box = stage.bounding_box()
    top = stage.evaluate("s => s.scrollTop")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 - 120, steps=4)
    page.mouse.up()
    page.wait_for_function("n => document.querySelector('[data-lb-stage]').scrollTop > n", arg=top)
    page.keyboard.press("0")
    expect(lightbox.locator("[data-lb-zoom]")).to_have_attribute("aria-pressed", "false")
    fitted = page.evaluate("() => document.querySelector('[data-lb-img]').getBoundingClientRect().height")
    assert fitted < 900

    # Esc closes it, gives the focus back to the tile shown last and drops ?view from the address.
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    expect(page.locator(f"#gen-{middle.public_id} .tile-img")).to_be_focused()
    expect(page).to_have_url(f"{base}/")

    # Enter on a focused tile opens it; the close button closes it.
    page.locator(f"#gen-{oldest.public_id} .tile-img").focus()
    page.keyboard.press("Enter")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator("[data-lb-position]")).to_have_text("3 of 3")
    lightbox.get_by_role("button", name=re.compile("Close")).click()
    expect(lightbox).to_be_hidden()

    # The address opens it again on a fresh page; the previous button moves back.
    page.goto(f"{base}/?view={middle.public_id}")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator("[data-lb-prompt]")).to_have_text("middle tall")
    lightbox.locator("[data-lb-prev]").click()
    expect(page).to_have_url(re.compile(rf"view={newest.public_id}"))
    # The focus stays inside while it is open.
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('#lightbox')")


def test_the_lightbox_works_on_a_phone_with_buttons(live_server, make_context, log_in, make_user):
    user = make_user()
    first, second = make_generation(user, prompt="second", aspect_ratio="3:4"), make_generation(user, prompt="first")
    context = make_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.locator(f"#gen-{second.public_id} .tile-img").tap()
    lightbox = page.locator("#lightbox")
    expect(lightbox).to_be_visible()
    lightbox_image_loaded(page)
    width = page.evaluate("() => document.querySelector('[data-lb-img]').getBoundingClientRect().width")
    assert width <= 390
    lightbox.locator("[data-lb-next]").tap()
    expect(page).to_have_url(re.compile(rf"view={first.public_id}"))
    lightbox.locator("[data-lb-close]").tap()
    expect(lightbox).to_be_hidden()


def test_an_address_for_an_older_image_pages_the_gallery_in(live_server, page, context, log_in, make_user):
    user = make_user()
    oldest = make_generation(user, prompt="far back", aspect_ratio="4:3")
    for i in range(48):  # a full first page of newer ones (without files: cheap to make)
        make_generation(user, prompt=f"newer {i}", files=False)
    log_in(context, user)
    page.goto(f"{live_server.url}/?view={oldest.public_id}")
    expect(page.locator("#lightbox")).to_be_visible()
    expect(page.locator("[data-lb-prompt]")).to_have_text("far back")
    expect(page.locator("#gallery .tile")).to_have_count(49)


def test_ctrl_a_selects_every_tile_and_escape_always_clears(live_server, page, context, log_in, make_user):
    user = make_user()
    for i in range(4):
        make_generation(user, prompt=f"image {i}", files=False)
    log_in(context, user)
    page.goto(f"{live_server.url}/")
    count = page.locator("[data-selection-count]")
    bar = page.locator("#selection-form")

    # Started from a tick box (the focus stays on it): Esc clears.
    page.locator(".tile-check").nth(1).check()
    expect(count).to_have_text("1 selected")
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    expect(page.locator(".tile-check:checked")).to_have_count(0)

    # Started with Shift-click: Esc clears.
    page.locator(".tile-check").nth(0).check()
    page.locator(".tile-check").nth(2).click(modifiers=["Shift"])
    expect(count).to_have_text("3 selected")
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()

    # Ctrl+A selects every tile; Esc clears.
    page.locator("#gallery-title").click()
    page.keyboard.press("Control+a")
    expect(count).to_have_text("4 selected")
    expect(page.locator(".tile.is-selected")).to_have_count(4)
    page.keyboard.press("Escape")
    expect(page.locator(".tile.is-selected")).to_have_count(0)

    # In the prompt box Ctrl+A selects the text, not the tiles.
    page.fill("#id_prompt", "some words")
    page.locator("#id_prompt").press("Control+a")
    expect(bar).to_be_hidden()
    assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") == 10

    # The bar's own button selects all too.
    page.locator(".tile-check").nth(3).check()
    bar.locator("[data-selection-all]").click()
    expect(count).to_have_text("4 selected")


OVERLAPS = """() => {
  const bar = document.querySelector('#selection-form'), button = document.querySelector('[data-generate]');
  const hits = [];
  const max = document.documentElement.scrollHeight - innerHeight;
  for (let y = 0; y <= max + 200; y += 150) {
    window.scrollTo(0, Math.min(y, max));
    const a = bar.getBoundingClientRect(), b = button.getBoundingClientRect();
    const onScreen = a.bottom > 0 && a.top < innerHeight && b.bottom > 0 && b.top < innerHeight;
    const meet = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    if (onScreen && meet) hits.push(window.scrollY);
  }
  window.scrollTo(0, 0);
  return hits;
}"""


@pytest.mark.parametrize("width", [1024, 1280, 1440, 390])
def test_the_selection_bar_never_covers_the_generate_button(live_server, make_context, log_in, make_user, width):
    user = make_user()
    for i in range(14):
        make_generation(user, prompt=f"image {i}", aspect_ratio=["1:1", "9:16", "16:9"][i % 3], files=False)
    context = make_context(viewport={"width": width, "height": 800 if width > 500 else 844})
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.locator(".tile-check").nth(0).check()
    page.keyboard.press("Control+a")
    expect(page.locator("[data-selection-count]")).to_have_text("14 selected")
    expect(page.locator("#selection-form")).to_be_visible()
    assert page.evaluate(OVERLAPS) == []
    # And at the top of the page the bar is in the window, ready to use, beside the form.
    if width > 860:
        bar, button = page.locator("#selection-form").bounding_box(), page.locator("[data-generate]").bounding_box()
        assert bar["y"] + bar["height"] <= 800 and bar["x"] >= button["x"] + button["width"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots_of_whole_images(live_server, make_context, log_in, make_user, size, scheme):
    """The studio, a board, the review queue and the lightbox, for a person to look at (issue 13)."""
    from accounts import teams
    from generations.review import services as review
    from tests.browser.conftest import SCREENSHOTS
    from tests.browser.test_screenshots import VIEWPORTS, seed_gallery, shoot

    folder = SCREENSHOTS / "issue13"
    folder.mkdir(parents=True, exist_ok=True)
    user = make_user("dana", tier="pro", credits=400)
    made = seed_gallery(user)
    board = review.create_board(workspace=teams.personal(user), name="Spring campaign")
    review.add_to_board(user=user, board=board, generations=made[:7])
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    log_in(context, user)
    page = context.new_page()
    base = live_server.url

    page.goto(f"{base}/")
    shoot(page, folder, "studio", size, scheme)
    page.locator(".tile-check").nth(1).check()
    page.locator(".tile-check").nth(4).click(modifiers=["Shift"])
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.screenshot(path=str(folder / f"studio-selection-{size}-{scheme}.png"))
    page.keyboard.press("Escape")

    tall = made[5]  # 9:16
    page.goto(f"{base}/?view={tall.public_id}")
    expect(page.locator("#lightbox")).to_be_visible()
    lightbox_image_loaded(page)
    page.screenshot(path=str(folder / f"lightbox-{size}-{scheme}.png"))
    page.keyboard.press("ArrowLeft")
    lightbox_image_loaded(page)
    page.screenshot(path=str(folder / f"lightbox-wide-{size}-{scheme}.png"))
    page.keyboard.press("1")
    page.screenshot(path=str(folder / f"lightbox-zoomed-{size}-{scheme}.png"))
    page.keyboard.press("Escape")

    page.goto(f"{base}/boards")
    shoot(page, folder, "boards", size, scheme)
    page.goto(f"{base}/boards/{board.public_id}")
    shoot(page, folder, "board", size, scheme)
    page.locator("#board-gallery .tile-img").first.click()  # the board's tiles open the lightbox too
    expect(page.locator("#lightbox [data-lb-position]")).to_have_text("1 of 7")
    page.keyboard.press("Escape")
    page.goto(f"{base}/review")
    page.locator(".review-strip img").first.wait_for()
    shoot(page, folder, "review", size, scheme)
