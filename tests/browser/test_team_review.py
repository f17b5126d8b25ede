"""Two designers in one team, in two browsers, with a real worker: generate, review, hand off.

Ana makes the team and invites Ben through the pages. Ana generates three images into
the team; Ben sees them, approves one, rejects one and comments on the third; Ana sees
his decisions and the comment; Ben puts two of them on a board and downloads only the
approved one as a ZIP. Omar, outside the team, sees none of it.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from generations.models import Board, Generation, ReviewStatus

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
TIMEOUT = 60_000  # a cold worker on a busy two-core machine takes a while to start
FAST = {"seedream-5.0-lite": {"engine": "typeset"}}


@pytest.fixture
def team_server(live_server, start_worker, settings):
    settings.STUDIO_MODELS = FAST
    start_worker(STUDIO_MODELS_JSON=json.dumps(FAST))
    return live_server.url


def test_two_designers_generate_review_comment_and_hand_off_a_board(
    team_server, make_user, make_context, log_in, screenshot_dir
):
    base = team_server
    ana, ben, omar = (make_user(name, tier="pro", credits=200) for name in ("ana", "ben", "omar"))
    a_ctx, b_ctx, o_ctx = make_context(), make_context(), make_context()
    for context, user in ((a_ctx, ana), (b_ctx, ben), (o_ctx, omar)):
        log_in(context, user)
    a, b = a_ctx.new_page(), b_ctx.new_page()

    # Ana makes the team (and works in it from then on) and invites Ben as an editor.
    a.goto(f"{base}/teams")
    a.fill("input[name=name]", "Poster Crew")
    a.click("button:has-text('Create team')")
    expect(a.locator("#members")).to_contain_text("ana")
    a.fill("input[name=identifier]", "ben")
    a.select_option("#invites select[name=role]", "editor")
    a.click("button:has-text('Send invite')")
    expect(a.locator("#invites")).to_contain_text("ben")

    # Ben accepts on his Teams page and lands in the team's studio.
    b.goto(f"{base}/teams")
    b.click("button[aria-label='Accept the invitation to Poster Crew']")
    b.wait_for_url(f"{base}/")
    expect(b.locator("[data-ws-name]")).to_have_text("Poster Crew")

    # Ana generates three images into the team; a real worker renders them.
    a.goto(f"{base}/")
    expect(a.locator("[data-ws-name]")).to_have_text("Poster Crew")
    a.fill("#id_prompt", "Jazz night flyer that says 'Blue Notes', navy and gold")
    a.click("label:has(input[name=count][value='3'])")
    expect(a.locator("[data-workspace-note]")).to_contain_text("Poster Crew")
    a.click("[data-generate]")
    expect(a.locator("#gallery .tile")).to_have_count(3)
    expect(a.locator("#gallery .tile[data-stage=completed]")).to_have_count(3, timeout=TIMEOUT)
    team_images = list(Generation.objects.filter(team__name="Poster Crew").order_by("created_at", "pk"))
    assert len(team_images) == 3 and all(g.user == ana for g in team_images)
    first, second, third = team_images

    # Ben sees them, approves the first with `a`, rejects the second with `r`.
    b.goto(f"{base}/")
    expect(b.locator("#gallery .tile[data-stage=completed]")).to_have_count(3)
    b.goto(f"{base}/review")
    expect(b.locator("[data-review-current]")).to_have_attribute("data-review-current", first.public_id)
    b.keyboard.press("a")
    expect(b.locator("[data-review-current]")).to_have_attribute("data-review-current", second.public_id)
    b.keyboard.press("r")
    expect(b.locator("[data-review-current]")).to_have_attribute("data-review-current", third.public_id)
    b.screenshot(path=str(screenshot_dir / "team-review-queue.png"), full_page=True)

    # ... and comments on the third from its page.
    b.goto(f"{base}/images/{third.public_id}")
    b.fill("#comment-body", "Can the headline be bigger?")
    b.click(".comment-form button[type=submit]")
    expect(b.locator("#comments")).to_contain_text("Can the headline be bigger?")

    # Ana sees Ben's decisions on the tiles and his comment on the image.
    a.goto(f"{base}/")
    expect(a.locator(f"#gen-{first.public_id} .tile-badge.is-approved")).to_be_visible()
    expect(a.locator(f"#gen-{second.public_id} .tile-badge.is-rejected")).to_be_visible()
    expect(a.locator(f"#gen-{third.public_id} [data-open-comments='1']")).to_be_visible()
    a.screenshot(path=str(screenshot_dir / "team-gallery-after-review.png"), full_page=True)
    a.goto(f"{base}/images/{third.public_id}")
    expect(a.locator("#comments")).to_contain_text("Can the headline be bigger?")
    expect(a.locator("#comments")).to_contain_text("ben")

    # Ben puts the approved and the rejected image on a board, then takes only the approved.
    b.goto(f"{base}/images/{first.public_id}")
    b.fill("#image-board-new-name", "Picks")
    b.click(".image-board-new button[type=submit]")
    expect(b.locator("#image-boards")).to_contain_text("Picks")
    b.goto(f"{base}/images/{second.public_id}")
    b.select_option("#image-board-pick", label="Picks")
    b.click(".image-board-add button[value=add_to_board]")
    board = Board.objects.get(name="Picks")
    assert board.team.name == "Poster Crew" and board.items.count() == 2
    b.goto(f"{base}/boards/{board.public_id}")
    expect(b.locator(".gallery .tile")).to_have_count(2)
    with b.expect_download() as download:
        b.click("[data-board-download-approved]")
    archive = zipfile.ZipFile(download.value.path())
    names = archive.namelist()
    assert len(names) == 1 and names[0].endswith(".png")
    png = Image.open(io.BytesIO(archive.read(names[0])))
    assert json.loads(png.info["studio"])["task_id"] == first.public_id
    assert Generation.objects.get(pk=first.pk).review_status == ReviewStatus.APPROVED
    assert Generation.objects.get(pk=second.pk).review_status == ReviewStatus.REJECTED

    # Omar, outside the team, sees none of it: not in his gallery, and 404 for every address.
    o = o_ctx.new_page()
    o.goto(f"{base}/")
    expect(o.locator("#gallery .tile")).to_have_count(0)
    expect(o.locator("[data-ws-name]")).to_have_text("Personal")
    for path in (f"/images/{first.public_id}", f"/boards/{board.public_id}", f"/teams/{board.team.public_id}"):
        assert o_ctx.request.get(f"{base}{path}").status == 404, path
    o.goto(f"{base}/review")
    expect(o.locator("[data-review-empty]")).to_be_visible()
