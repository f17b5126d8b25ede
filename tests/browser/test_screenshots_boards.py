"""Screenshots of boards and compare at desktop and phone width, light and dark; the slider is dragged.

They land in test-output/screenshots/boards-*.png and compare-*.png for a person to look at.
"""

from __future__ import annotations

import pytest

from accounts import teams
from generations import storage
from generations.models import ReviewStatus
from generations.review import services as review
from tests.browser.test_screenshots import PALETTES, PROMPTS, VIEWPORTS, paint, shoot
from tests.studio_factories import make_generation

pytestmark = pytest.mark.browser


def seed_boards(user) -> tuple[list, list]:
    made = []
    for i, (prompt, ratio, style) in enumerate(PROMPTS[:8]):
        top, bottom = PALETTES[i % len(PALETTES)]
        g = make_generation(user, prompt=prompt, aspect_ratio=ratio, style=style, colors=[top, bottom],
                            seed=1000 + i * 7919, files=False)  # fmt: skip
        names = storage.save_images(g, paint(g.width, g.height, top, bottom, i), g.parameters())
        g.image_png, g.image_webp, g.thumbnail, g.file_size = names["png"], names["webp"], names["thumbnail"], 0
        g.review_status = [ReviewStatus.APPROVED, ReviewStatus.PENDING, ReviewStatus.REJECTED][i % 3]
        g.save()
        made.append(g)
    workspace = teams.personal(user)
    boards = []
    for name, picks in [("Spring campaign", made[:5]), ("Logo shortlist", made[5:7]), ("Travel posters", [made[0]])]:
        board = review.create_board(workspace=workspace, name=name)
        review.add_to_board(user=user, board=board, generations=picks)
        boards.append(board)
    review.create_board(workspace=workspace, name="Ideas for later")
    return made, boards


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_boards_and_compare(live_server, make_context, log_in, make_user, screenshot_dir, size, scheme):
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    base = live_server.url

    empty = make_user("nobody")
    log_in(context, empty)
    page.goto(f"{base}/boards")
    shoot(page, screenshot_dir, "boards-empty", size, scheme)

    user = make_user("bea", tier="pro", credits=400)
    context.clear_cookies()
    log_in(context, user)
    made, boards = seed_boards(user)

    page.goto(f"{base}/boards")
    assert page.locator(".board-card").count() == 4
    shoot(page, screenshot_dir, "boards", size, scheme)

    page.goto(f"{base}/boards/{boards[0].public_id}")
    assert page.locator("#board-gallery .tile").count() == 5
    shoot(page, screenshot_dir, "boards-detail", size, scheme)

    page.locator(".tile-check").nth(0).check()
    page.locator(".tile-check").nth(1).check()
    compare_button = page.locator("[data-selection-compare]")
    assert compare_button.is_enabled()
    shoot(page, screenshot_dir, "boards-selection", size, scheme)
    page.locator(".tile-check").nth(2).check()
    assert compare_button.is_disabled(), "Compare wants exactly two"
    page.locator(".tile-check").nth(2).uncheck()
    compare_button.click()
    page.wait_for_url("**/compare?*")
    page.goto(f"{base}/compare?a={made[0].public_id}&b={made[1].public_id}")
    assert page.locator("tr.is-different").count() >= 4
    shoot(page, screenshot_dir, "compare-side", size, scheme)

    page.click("[data-compare-mode=slider]")
    frame = page.locator("[data-compare-frame]")
    frame.wait_for()
    clip = page.locator("[data-compare-clip]")
    before = clip.evaluate("el => getComputedStyle(el).clipPath")
    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    after = clip.evaluate("el => getComputedStyle(el).clipPath")
    assert before != after, f"dragging moved the divider ({before} -> {after})"
    value = float(page.locator("[data-compare-range]").input_value())
    assert 20 <= value <= 30
    shoot(page, screenshot_dir, "compare-slider", size, scheme)

    page.check("[data-only-diff]", force=True)
    assert page.locator("tr.is-same").first.is_hidden()
    page.goto(f"{base}/boards/{boards[0].public_id}?review=approved")
    shoot(page, screenshot_dir, "boards-detail-approved", size, scheme)
