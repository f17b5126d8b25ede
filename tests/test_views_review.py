"""Team review pages: the "Needs review" queue, decisions, comment threads and the image page's panels."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from accounts import teams
from generations.models import Comment, Generation, ReviewEvent, ReviewStatus, Stage
from generations.review.services import COMMENT_MAX_LENGTH
from tests.studio_factories import make_generation, make_team

HX = {"HX-Request": "true"}


@pytest.fixture
def crew(make_user):
    """A team with an owner, an editor and a viewer, and a stranger outside it."""
    owner, editor, viewer, stranger = (make_user(n) for n in ("olga", "eddie", "vera", "stan"))
    team = make_team(owner, "Poster Crew", eddie="editor", vera="viewer")
    return {"team": team, "owner": owner, "editor": editor, "viewer": viewer, "stranger": stranger}


def in_team(client, user, team):
    client.force_login(user)
    response = client.post(reverse("teams:switch"), {"workspace": team.public_id})
    assert response.status_code == 302
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def current_id(response) -> str | None:
    match = re.search(r'data-review-current="([^"]+)"', response.content.decode())
    return match.group(1) if match else None


def status_of(g: Generation) -> str:
    g.refresh_from_db()
    return g.review_status


# --- The queue ---------------------------------------------------------------------------------


def test_queue_shows_only_the_current_workspaces_finished_pending_images_oldest_first(client, crew):
    team, editor = crew["team"], crew["editor"]
    first = make_generation(editor, team=team, prompt="First poster")
    second = make_generation(editor, team=team, prompt="Second poster")
    make_generation(editor, team=team, prompt="Already approved", review_status=ReviewStatus.APPROVED)
    make_generation(editor, team=team, prompt="Still rendering", stage=Stage.RENDERING)
    make_generation(editor, prompt="Personal sketch")  # the editor's personal workspace
    make_generation(crew["stranger"], prompt="Someone else's")

    response = in_team(client, editor, team).get(reverse("review:queue"))

    assert response.status_code == 200
    assert current_id(response) == first.public_id
    body = text(response)
    assert "First poster" in body
    assert f"?at={second.public_id}" in body  # next in the strip
    for hidden in ("Already approved", "Still rendering", "Personal sketch", "Someone else"):
        assert hidden not in body
    assert "2 of 3 left" in body
    assert re.search(r'data-count="approved">1<', body)
    assert 'data-review-key="a"' in body and 'data-review-key="r"' in body


def test_queue_in_the_personal_workspace_lets_the_owner_review_their_own(client, make_user):
    user = make_user()
    mine = make_generation(user, prompt="My own")
    client.force_login(user)
    response = client.get(reverse("review:queue"))
    assert current_id(response) == mine.public_id
    assert 'data-review-key="a"' in response.content.decode()

    client.post(reverse("review:set", args=[mine.public_id]), {"status": "approved", "next": "/review"})
    assert status_of(mine) == ReviewStatus.APPROVED


def test_approving_moves_to_the_next_and_records_who_and_from_what(client, crew):
    team, owner = crew["team"], crew["owner"]
    first, second = (make_generation(owner, team=team) for _ in range(2))
    in_team(client, owner, team)
    nxt = f"/review?after={first.public_id}"

    response = client.post(reverse("review:set", args=[first.public_id]), {"status": "approved", "next": nxt})

    assert response.status_code == 302 and response["Location"] == nxt
    assert status_of(first) == ReviewStatus.APPROVED
    first.refresh_from_db()
    assert first.reviewed_by == owner and first.reviewed_at is not None
    event = ReviewEvent.objects.get(generation=first)
    assert (event.actor, event.from_status, event.to_status) == (owner, "pending", "approved")
    assert current_id(client.get(nxt)) == second.public_id


def test_rejecting_then_returning_to_pending_keeps_the_whole_history(client, crew):
    team, editor = crew["team"], crew["editor"]
    g = make_generation(editor, team=team)
    in_team(client, editor, team)
    url = reverse("review:set", args=[g.public_id])
    client.post(url, {"status": "rejected"})
    client.post(url, {"status": "pending"})
    g.refresh_from_db()
    assert g.review_status == ReviewStatus.PENDING and g.reviewed_by is None
    assert list(ReviewEvent.objects.filter(generation=g).order_by("id").values_list("from_status", "to_status")) == [
        ("pending", "rejected"),
        ("rejected", "pending"),
    ]


def test_skip_shows_the_next_without_deciding_and_wraps_round(client, crew):
    team, owner = crew["team"], crew["owner"]
    first, second = (make_generation(owner, team=team) for _ in range(2))
    in_team(client, owner, team)
    assert current_id(client.get(f"/review?after={first.public_id}")) == second.public_id
    assert current_id(client.get(f"/review?after={second.public_id}")) == first.public_id
    assert current_id(client.get(f"/review?at={second.public_id}")) == second.public_id
    assert status_of(first) == status_of(second) == ReviewStatus.PENDING


def test_empty_queue_says_so_and_links_to_the_gallery(client, crew):
    team, owner = crew["team"], crew["owner"]
    make_generation(owner, team=team, review_status=ReviewStatus.REJECTED)
    response = in_team(client, owner, team).get(reverse("review:queue"))
    body = text(response)
    assert "Nothing waiting for review" in body
    assert f'href="{reverse("generations:studio")}"' in body
    assert current_id(response) is None


def test_viewer_sees_the_queue_read_only(client, crew):
    team = crew["team"]
    g = make_generation(crew["owner"], team=team, prompt="Waiting poster")
    response = in_team(client, crew["viewer"], team).get(reverse("review:queue"))
    body = text(response)
    assert current_id(response) == g.public_id
    assert "read-only" in body
    assert "data-review-key" not in body


# --- Who may do what ---------------------------------------------------------------------------


def test_viewer_cannot_review_and_nothing_changes(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["viewer"])
    for headers in ({}, HX):
        response = client.post(reverse("review:set", args=[g.public_id]), {"status": "approved"}, headers=headers)
        assert response.status_code == 403
    assert status_of(g) == ReviewStatus.PENDING
    assert not ReviewEvent.objects.exists()


def test_viewer_can_comment_and_resolve(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["viewer"])
    response = client.post(reverse("review:comment", args=[g.public_id]), {"body": "Warmer sky?"}, headers=HX)
    assert response.status_code == 200
    comment = Comment.objects.get(generation=g)
    assert comment.author == crew["viewer"] and comment.body == "Warmer sky?"
    client.post(reverse("review:resolve", args=[comment.pk]), {"resolved": "1"}, headers=HX)
    comment.refresh_from_db()
    assert comment.resolved_by == crew["viewer"]


def test_a_non_member_gets_404_everywhere_and_sees_nothing(client, crew):
    g = make_generation(crew["owner"], team=crew["team"], prompt="Team secret")
    comment = Comment.objects.create(generation=g, author=crew["owner"], body="Internal note")
    client.force_login(crew["stranger"])
    attempts = [
        (reverse("review:set", args=[g.public_id]), {"status": "approved"}),
        (reverse("review:comment", args=[g.public_id]), {"body": "hi"}),
        (reverse("review:resolve", args=[comment.pk]), {"resolved": "1"}),
    ]
    for url, data in attempts:
        for headers in ({}, HX):
            assert client.post(url, data, headers=headers).status_code == 404
    assert "Team secret" not in text(client.get(reverse("review:queue")))
    assert status_of(g) == ReviewStatus.PENDING
    assert Comment.objects.count() == 1
    comment.refresh_from_db()
    assert comment.resolved_at is None
    # A team they once chose but are no longer in falls back to their personal workspace.
    session = client.session
    session[teams.SESSION_KEY] = crew["team"].public_id
    session.save()
    assert "Team secret" not in text(client.get(reverse("review:queue")))


def test_a_bad_status_is_refused_and_changes_nothing(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["owner"])
    url = reverse("review:set", args=[g.public_id])
    assert client.post(url, {"status": "maybe"}).status_code == 400
    response = client.post(url, {"status": "maybe"}, headers=HX)
    assert response.status_code == 200 and "Review status must be one of" in text(response)
    assert status_of(g) == ReviewStatus.PENDING
    assert not ReviewEvent.objects.exists()


def test_an_unfinished_image_cannot_be_approved(client, crew):
    g = make_generation(crew["owner"], team=crew["team"], stage=Stage.RENDERING)
    client.force_login(crew["owner"])
    response = client.post(reverse("review:set", args=[g.public_id]), {"status": "approved"})
    assert response.status_code == 400
    assert status_of(g) == ReviewStatus.PENDING


def test_next_must_stay_on_this_site(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["owner"])
    response = client.post(
        reverse("review:set", args=[g.public_id]), {"status": "approved", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("generations:image", args=[g.public_id])


# --- HTMX fragments ----------------------------------------------------------------------------


def test_htmx_review_returns_the_updated_panel(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["editor"])
    response = client.post(reverse("review:set", args=[g.public_id]), {"status": "approved"}, headers=HX)
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card review-panel" id="review-panel"')
    assert 'data-review-status="approved"' in body
    assert "Approved by <strong>eddie</strong>" in body
    assert "Back to pending" in body


def test_comment_validation_errors_are_shown_beside_the_box_and_save_nothing(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["editor"])
    url = reverse("review:comment", args=[g.public_id])

    empty = client.post(url, {"body": "   "}, headers=HX)
    assert empty.status_code == 200
    assert re.search(r'class="field-error" id="comment-error"[^>]*>Write something first', text(empty))

    too_long = "x" * (COMMENT_MAX_LENGTH + 1)
    long_reply = client.post(url, {"body": too_long}, headers=HX)
    assert f"at most {COMMENT_MAX_LENGTH} characters" in text(long_reply)
    assert too_long in long_reply.content.decode()  # what was typed is kept for editing

    plain = client.post(url, {"body": ""})
    assert plain.status_code == 422 and "Write something first" in text(plain)
    assert not Comment.objects.exists()


def test_adding_a_comment_returns_the_thread_with_the_open_count(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["editor"])
    url = reverse("review:comment", args=[g.public_id])
    client.post(url, {"body": "First note"}, headers=HX)
    response = client.post(url, {"body": "Second <b>note</b>"}, headers=HX)
    body = text(response)
    assert body.lstrip().startswith('<section class="card comments-panel" id="comments"')
    assert "2 open" in body
    assert "Second &lt;b&gt;note&lt;/b&gt;" in response.content.decode()  # escaped
    plain = client.post(url, {"body": "Third"})
    assert plain.status_code == 302 and plain["Location"].endswith("#comments")


def test_resolve_and_reopen(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    comment = Comment.objects.create(generation=g, author=crew["owner"], body="Crop tighter")
    client.force_login(crew["editor"])
    url = reverse("review:resolve", args=[comment.pk])

    resolved = client.post(url, {"resolved": "1"}, headers=HX)
    comment.refresh_from_db()
    assert comment.resolved_by == crew["editor"] and comment.resolved_at is not None
    body = text(resolved)
    assert "Resolved by eddie" in body and ">Reopen<" in body and "All resolved" in body

    reopened = client.post(url, {"resolved": "0"})
    assert reopened.status_code == 302
    comment.refresh_from_db()
    assert comment.resolved_at is None and comment.resolved_by is None


# --- The image page ----------------------------------------------------------------------------


def test_the_image_page_shows_review_status_history_and_comments(client, crew):
    team, owner, editor = crew["team"], crew["owner"], crew["editor"]
    g = make_generation(owner, team=team)
    client.force_login(editor)
    client.post(reverse("review:set", args=[g.public_id]), {"status": "rejected"})
    client.post(reverse("review:set", args=[g.public_id]), {"status": "approved"})
    Comment.objects.create(generation=g, author=owner, body="Love the colours")
    done = Comment.objects.create(generation=g, author=editor, body="Fix the logo")
    client.post(reverse("review:resolve", args=[done.pk]), {"resolved": "1"})

    body = text(client.get(reverse("generations:image", args=[g.public_id])))

    assert 'data-review-status="approved"' in body
    assert "Approved by <strong>eddie</strong>" in body
    assert "History" in body and "(2 changes)" in body
    assert "eddie</strong> approved" in body and "(was rejected)" in body
    assert "eddie</strong> rejected" in body
    assert "Love the colours" in body and "Fix the logo" in body
    assert "1 open" in body
    assert "Resolved by eddie" in body
    assert 'data-review-key="a"' in body


def test_the_image_page_hides_review_buttons_from_a_viewer_but_keeps_the_comment_box(client, crew):
    g = make_generation(crew["owner"], team=crew["team"])
    client.force_login(crew["viewer"])
    body = text(client.get(reverse("generations:image", args=[g.public_id])))
    assert "Pending review" in body
    assert "data-review-key" not in body
    assert "Only editors and owners review images in this team." in body
    assert 'name="body"' in body


def test_an_unfinished_image_has_no_review_or_comment_forms(client, crew):
    g = make_generation(crew["owner"], team=crew["team"], stage=Stage.RENDERING, progress=0.3)
    client.force_login(crew["owner"])
    body = text(client.get(reverse("generations:image", args=[g.public_id])))
    assert "Reviews open once the image is finished." in body
    assert "Comments open once the image is finished." in body
    assert "data-review-key" not in body and 'name="body"' not in body
