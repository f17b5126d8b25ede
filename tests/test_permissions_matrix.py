"""Who may do what in a team, checked on the server: every role by every action.

Each action is sent as the request a browser or API client would send. An allowed one
succeeds and changes what it should; a refused one gets 403 (a member whose role does
not allow it), 404 (not a member: the team's things do not exist for them) or the login
page / 401 (anonymous), and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts import teams
from accounts.models import ApiKey, Membership, Role
from accounts.services import create_api_key
from generations import services
from generations.models import BoardItem, Comment, Generation, ReviewStatus, Star
from generations.review import services as review
from tests.helpers import spec
from tests.studio_factories import make_generation, make_team

PRINCIPALS = ("owner", "editor", "viewer", "stranger", "anonymous")


@dataclass
class World:
    users: dict[str, Any]
    keys: dict[str, str]
    team: Any
    image: Generation
    board: Any
    editor_membership: Membership

    def client(self, who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(self.users[who])
        return client


@pytest.fixture
def world(make_user) -> World:
    users = {name: make_user(name, tier="pro", credits=500) for name in ("owner", "editor", "viewer", "stranger")}
    team = make_team(users["owner"], "Poster Crew", editor=Role.EDITOR, viewer=Role.VIEWER)
    image = make_generation(users["editor"], team=team, prompt="Jazz night flyer that says 'Blue Notes'")
    board = review.create_board(workspace=teams.workspace_for(users["owner"], team.public_id), name="Shortlist")
    review.add_to_board(user=users["owner"], board=board, generations=[image])
    keys = {name: create_api_key(user=u, name="matrix")[1] for name, u in users.items()}
    return World(
        users=users,
        keys=keys,
        team=team,
        image=image,
        board=board,
        editor_membership=Membership.objects.get(team=team, user=users["editor"]),
    )


# Each action: (send it as `who`, did it take effect?). Every one starts from the same world.
def _view(w: World, who: str) -> Any:
    return w.client(who).get(reverse("generations:image", args=[w.image.public_id]))


def _generate(w: World, who: str) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {w.keys[who]}"} if who in w.keys else {}
    body = {"model": "seedream-5.0-lite", "prompt": "Second take", "team": w.team.public_id}
    return Client().post("/v1/images/generate", json.dumps(body), content_type="application/json", **headers)


def _review(w: World, who: str) -> Any:
    return w.client(who).post(reverse("review:set", args=[w.image.public_id]), {"status": ReviewStatus.APPROVED})


def _comment(w: World, who: str) -> Any:
    return w.client(who).post(reverse("review:comment", args=[w.image.public_id]), {"body": "Bigger headline?"})


def _star(w: World, who: str) -> Any:
    return w.client(who).post(reverse("generations:star", args=[w.image.public_id]), {"starred": "1"})


def _edit_board(w: World, who: str) -> Any:
    url = reverse("boards:items", args=[w.board.public_id])
    return w.client(who).post(url, {"action": "remove", "ids": [w.image.public_id]})


def _download(w: World, who: str) -> Any:
    return w.client(who).get(reverse("boards:download", args=[w.board.public_id]))


def _manage_members(w: World, who: str) -> Any:
    url = reverse("teams:role", args=[w.team.public_id, w.editor_membership.pk])
    return w.client(who).post(url, {"role": Role.VIEWER})


ACTIONS: dict[str, tuple[Callable[[World, str], Any], Callable[[World, str], bool]]] = {
    "view": (_view, lambda w, who: True),
    "generate": (_generate, lambda w, who: Generation.objects.filter(team=w.team).count() == 2),
    "review": (
        _review,
        lambda w, who: Generation.objects.get(pk=w.image.pk).review_status == ReviewStatus.APPROVED,
    ),
    "comment": (_comment, lambda w, who: Comment.objects.filter(generation=w.image).exists()),
    "star": (_star, lambda w, who: Star.objects.filter(generation=w.image).exists()),
    "edit_board": (_edit_board, lambda w, who: not BoardItem.objects.filter(board=w.board).exists()),
    "download": (_download, lambda w, who: True),
    "manage_members": (
        _manage_members,
        lambda w, who: Membership.objects.get(pk=w.editor_membership.pk).role == "viewer",
    ),
}

ALLOWED = {
    "owner": set(ACTIONS),
    "editor": set(ACTIONS) - {"manage_members"},
    "viewer": {"view", "comment", "star", "download"},
    "stranger": set(),
    "anonymous": set(),
}


def _succeeded(response: Any) -> bool:
    return response.status_code in (200, 302) and not _is_login_redirect(response)


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("action", ACTIONS)
def test_role_matrix(world: World, who: str, action: str):
    send, took_effect = ACTIONS[action]
    response = send(world, who)
    if action in ALLOWED[who]:
        assert _succeeded(response), f"{who} should be allowed to {action}: {response.status_code}"
        assert took_effect(world, who), f"{who} was answered {response.status_code} but {action} did not happen"
        if action == "download":
            assert response["Content-Type"] == "application/zip"
        return

    if who == "anonymous":
        expected = {401} if action == "generate" else {302}
        assert response.status_code in expected, f"anonymous {action}: {response.status_code}"
        if response.status_code == 302:
            assert _is_login_redirect(response)
    elif who == "stranger":
        assert response.status_code == 404, f"a non-member's {action} answered {response.status_code}"
    else:
        assert response.status_code == 403, f"{who}'s {action} answered {response.status_code}"
    if action not in ("view", "download"):
        assert not took_effect(world, who), f"{who}'s refused {action} changed something"
    if action == "generate":
        assert response.json()["error"]["code"] in {"invalid_api_key", "forbidden", "team_not_found"}
    assert world.users["editor"].ledger.filter(kind="charge").count() == 0


def test_a_strangers_refusals_do_not_even_confirm_the_ids(world: World):
    client = world.client("stranger")
    for url in (
        reverse("generations:image", args=[world.image.public_id]),
        reverse("boards:detail", args=[world.board.public_id]),
        reverse("teams:detail", args=[world.team.public_id]),
    ):
        assert client.get(url).status_code == 404, url
    api = Client().get(f"/v1/images/{world.image.public_id}", HTTP_AUTHORIZATION=f"Bearer {world.keys['stranger']}")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


def test_team_members_poll_the_teams_images_through_the_api_and_list_them(world: World):
    for who in ("owner", "editor", "viewer"):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {world.keys[who]}"}
        one = Client().get(f"/v1/images/{world.image.public_id}", **auth)
        assert one.status_code == 200 and one.json()["status"] == "completed", who
        listed = Client().get(f"/v1/images?team={world.team.public_id}", **auth).json()
        assert [item["task_id"] for item in listed["data"]] == [world.image.public_id], who
        personal = Client().get("/v1/images", **auth).json()
        assert personal["data"] == [], who
    refused = Client().get(
        f"/v1/images?team={world.team.public_id}", HTTP_AUTHORIZATION=f"Bearer {world.keys['stranger']}"
    )
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "team_not_found"


def test_credits_for_a_team_image_are_the_generators(world: World):
    before_owner = world.users["owner"].credits
    response = _generate(world, "editor")
    assert response.status_code == 200
    world.users["editor"].refresh_from_db()
    world.users["owner"].refresh_from_db()
    assert world.users["editor"].credits == 500 - 7
    assert world.users["owner"].credits == before_owner
    made = Generation.objects.get(public_id=response.json()["task_id"])
    assert made.team == world.team and made.user == world.users["editor"]


def test_api_keys_left_over_do_not_outlive_membership(world: World):
    Membership.objects.filter(team=world.team, user=world.users["viewer"]).delete()
    response = Client().get(f"/v1/images/{world.image.public_id}", HTTP_AUTHORIZATION=f"Bearer {world.keys['viewer']}")
    assert response.status_code == 404
    assert ApiKey.objects.filter(user=world.users["viewer"]).exists()


def test_a_refused_page_says_why_on_a_finished_page(world: World):
    response = _review(world, "viewer")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Only editors and owners review images in this team." in text
    assert "Back to the studio" in text


def test_only_whoever_generated_an_image_can_delete_it(world: World):
    url = reverse("generations:delete", args=[world.image.public_id])
    for who in ("owner", "viewer"):
        client = world.client(who)
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
        page = client.get(reverse("generations:image", args=[world.image.public_id])).content.decode()
        assert "Delete image" not in page
    assert Generation.objects.filter(pk=world.image.pk).exists()
    editor = world.client("editor")
    assert "Delete image" in editor.get(reverse("generations:image", args=[world.image.public_id])).content.decode()
    assert editor.post(url).status_code == 302
    assert not Generation.objects.filter(pk=world.image.pk).exists()


def test_the_services_refuse_a_strangers_personal_image_on_their_own(world: World):
    from django.http import Http404

    private = make_generation(world.users["owner"], prompt="Owner's own sketch")
    stranger = world.users["stranger"]
    for change in (
        lambda: review.set_review(user=stranger, generation=private, status=ReviewStatus.APPROVED),
        lambda: review.add_comment(user=stranger, generation=private, body="Nice"),
    ):
        with pytest.raises(Http404):
            change()
    private.refresh_from_db()
    assert private.review_status == ReviewStatus.PENDING and not private.comments.exists()


def test_a_viewer_sees_the_teams_gallery_without_a_prompt_form(world: World):
    client = world.client("viewer")
    client.post(reverse("teams:switch"), {"workspace": world.team.public_id})
    page = client.get(reverse("generations:studio")).content.decode()
    assert "You are a viewer in Poster Crew" in page and 'id="gen-form"' not in page
    assert f'id="gen-{world.image.public_id}"' in page
    editor = world.client("editor")
    editor.post(reverse("teams:switch"), {"workspace": world.team.public_id})
    assert 'id="gen-form"' in editor.get(reverse("generations:studio")).content.decode()


def test_a_teams_viewer_may_not_cancel_its_images_through_the_api_either(world: World):
    queued = services.submit(user=world.users["editor"], spec=spec(), team=world.team).generations[0]

    def cancel(who: str) -> Any:
        return Client().post(f"/v1/images/{queued.public_id}/cancel", HTTP_AUTHORIZATION=f"Bearer {world.keys[who]}")

    refused = cancel("viewer")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert Generation.objects.get(pk=queued.pk).stage == "queued"  # unchanged, nothing refunded

    allowed = cancel("owner")
    assert allowed.status_code == 200 and allowed.json()["status"] == "canceled"
