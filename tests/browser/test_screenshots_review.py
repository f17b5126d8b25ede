"""Screenshots of team review: the "Needs review" queue, its empty state and the image page's
review and comments panels, at desktop and phone width in light and dark; and the `a` key.

They land in test-output/screenshots/review-<page>-<desktop|phone>-<light|dark>.png.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generations import storage
from generations.models import Comment, Generation, ReviewEvent, ReviewStatus
from tests.browser.test_screenshots import PALETTES, PROMPTS, VIEWPORTS, paint, shoot
from tests.studio_factories import make_generation, make_team

pytestmark = pytest.mark.browser


def seed_team(owner, team, count: int = 7) -> list[Generation]:
    """`count` painted, finished images in `team`, oldest first."""
    made = []
    for i, (prompt, ratio, style) in enumerate(PROMPTS[:count]):
        top, bottom = PALETTES[i % len(PALETTES)]
        g = make_generation(owner, team=team, prompt=prompt, aspect_ratio=ratio, style=style, colors=[top, bottom],
                            seed=2000 + i * 7919, files=False)  # fmt: skip
        names = storage.save_images(g, paint(g.width, g.height, top, bottom, i), g.parameters())
        g.image_png, g.image_webp, g.thumbnail, g.file_size = names["png"], names["webp"], names["thumbnail"], 0
        g.save()
        made.append(g)
    return made


def switch_to(page, base: str, team) -> None:
    """Choose the team in the workspace switcher, as a person would."""
    page.goto(f"{base}/")
    page.click("[data-ws-switch] summary")
    page.click(f"button[name=workspace][value='{team.public_id}']")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_team_review(live_server, make_context, log_in, make_user, screenshot_dir, size, scheme):
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    base = live_server.url
    owner, editor = make_user("olga"), make_user("eddie")
    team = make_team(owner, "Poster Crew", eddie="editor")
    made = seed_team(owner, team)
    # Some decisions already made, so the counts and the history have something to show.
    now = timezone.now()
    for g, status in ((made[5], ReviewStatus.APPROVED), (made[6], ReviewStatus.REJECTED)):
        ReviewEvent.objects.create(generation=g, actor=editor, from_status="pending", to_status=status,
                                   created_at=now - timedelta(minutes=20))  # fmt: skip
        Generation.objects.filter(pk=g.pk).update(review_status=status, reviewed_by=editor,
                                                  reviewed_at=now - timedelta(minutes=20))  # fmt: skip
    Comment.objects.create(generation=made[0], author=owner, body="Can the sky be a touch warmer?",
                           created_at=now - timedelta(hours=2))  # fmt: skip

    log_in(context, editor)
    switch_to(page, base, team)
    page.goto(f"{base}/review")
    page.locator(f"[data-review-current='{made[0].public_id}']").wait_for()
    assert page.locator("[data-review-left]").inner_text() == "5 of 7 left"
    page.locator(".review-strip img").first.wait_for()
    shoot(page, screenshot_dir, "review-queue", size, scheme)

    # The `a` key approves the image shown, and the next one comes up.
    page.keyboard.press("a")
    page.locator(f"[data-review-current='{made[1].public_id}']").wait_for()
    assert page.locator("[data-review-left]").inner_text() == "4 of 7 left"
    first = Generation.objects.get(pk=made[0].pk)
    assert first.review_status == ReviewStatus.APPROVED and first.reviewed_by == editor
    # Typing in a field does not decide anything.
    page.goto(f"{base}/images/{made[1].public_id}")
    page.locator("#comment-body").press_sequentially("a r")
    assert Generation.objects.get(pk=made[1].pk).review_status == ReviewStatus.PENDING
    # On the image page `r` rejects the image shown and the panel says so.
    page.fill("#comment-body", "")
    page.locator("#comment-body").blur()
    page.keyboard.press("r")
    page.locator("#review-panel [data-review-status='rejected']").wait_for()
    assert Generation.objects.get(pk=made[1].pk).review_status == ReviewStatus.REJECTED
    # The keys typed into the comment box decided nothing: the only change is this reject.
    assert list(ReviewEvent.objects.filter(generation=made[1]).values_list("from_status", "to_status")) == [
        ("pending", "rejected")
    ]

    # The image page: the review panel with its history, and a thread with one resolved comment.
    page.goto(f"{base}/images/{made[0].public_id}")
    page.fill("#comment-body", "Approved. Export at print size for the lobby, please.")
    page.click("[data-comment-form] button[type=submit]")
    page.locator("[data-comment]", has_text="print size").wait_for()
    page.locator("[data-comment]", has_text="warmer").locator("[data-resolve]").click()
    page.locator("[data-comment].is-resolved").wait_for()
    page.fill("#comment-body", "  ")
    page.click("[data-comment-form] button[type=submit]")
    page.locator("#comment-error").wait_for()
    page.fill("#comment-body", "")
    page.click(".review-history summary")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, screenshot_dir, "review-image", size, scheme)

    # Reject the rest from the keyboard on the queue page, then look at the empty state.
    page.goto(f"{base}/review")
    for g in made[2:5]:
        page.locator(f"[data-review-current='{g.public_id}']").wait_for()
        page.keyboard.press("r")
    page.locator("[data-review-empty]").wait_for()
    shoot(page, screenshot_dir, "review-empty", size, scheme)
    assert not Generation.objects.filter(team=team, review_status=ReviewStatus.PENDING).exists()
