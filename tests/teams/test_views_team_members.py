"""The teams pages through Django's test client: members, roles, leaving, and who may see what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import teams
from accounts.models import Invite, Role
from tests.studio_factories import make_team
from tests.teams.support import as_user, member, roles, toasts, url

pytestmark = pytest.mark.django_db


# --- Members and roles -----------------------------------------------------------------


def test_owner_changes_a_members_role(client, owner, crew):
    response = client.post(url("role", crew.public_id, member(crew, "vera").pk), {"role": "editor"}, follow=True)

    assert roles(crew)["vera"] == Role.EDITOR
    assert any("vera is now editor" in t for t in toasts(response))


def test_the_last_owner_cannot_step_down(client, owner, crew):
    response = client.post(url("role", crew.public_id, member(crew, "olivia").pk), {"role": "viewer"})

    assert response.status_code == 422
    assert "A team needs at least one owner" in response.content.decode()
    assert roles(crew)["olivia"] == Role.OWNER


def test_the_last_owner_cannot_leave(client, owner, crew):
    response = client.post(url("leave", crew.public_id))

    assert response.status_code == 422
    assert "make someone else an owner before leaving" in response.content.decode()
    assert roles(crew)["olivia"] == Role.OWNER


def test_an_owner_can_leave_once_there_is_another_owner(client, owner, crew):
    teams.change_role(by=owner, member=member(crew, "eddie"), role=Role.OWNER)
    client.post(reverse("teams:switch"), {"workspace": crew.public_id})

    response = client.post(url("leave", crew.public_id), follow=True)

    assert "olivia" not in roles(crew)
    assert client.session[teams.SESSION_KEY] == teams.PERSONAL
    assert any("You left Poster Crew" in t for t in toasts(response))


def test_a_viewer_leaves_and_the_session_goes_back_to_personal(client, crew):
    as_user(client, "vera")
    client.post(reverse("teams:switch"), {"workspace": crew.public_id})

    response = client.post(url("leave", crew.public_id))

    assert response["Location"] == url("list")
    assert "vera" not in roles(crew)
    assert client.session[teams.SESSION_KEY] == teams.PERSONAL


def test_owner_removes_a_member(client, owner, crew):
    response = client.post(url("remove", crew.public_id, member(crew, "eddie").pk), follow=True)

    assert "eddie" not in roles(crew)
    assert any("Removed eddie from Poster Crew" in t for t in toasts(response))


def test_owner_renames_the_team(client, owner, crew):
    client.post(url("rename", crew.public_id), {"name": "Poster Gang"})

    crew.refresh_from_db()
    assert crew.name == "Poster Gang"
    assert client.post(url("rename", crew.public_id), {"name": " "}).status_code == 422
    crew.refresh_from_db()
    assert crew.name == "Poster Gang"


def test_owner_sees_management_forms_and_a_viewer_does_not(client, owner, crew):
    teams.create_link(by=owner, team=crew, role=Role.VIEWER)
    html = client.get(url("detail", crew.public_id)).content.decode()
    assert "Invite by username or email" in html and "Invite links" in html
    assert 'name="role"' in html and "Remove…" in html
    assert "/invites/" in html

    as_user(client, "vera")
    html = client.get(url("detail", crew.public_id)).content.decode()
    assert "eddie" in html and "olivia" in html
    assert "Invite by username or email" not in html and "Invite links" not in html
    assert "Remove…" not in html and "<select" not in html
    assert "/invites/" not in html  # the link's token stays with the owners
    assert "Leave team…" in html
    assert "Manages members and roles" in html  # the role legend


@pytest.mark.parametrize("username", ["eddie", "vera"])
def test_editors_and_viewers_cannot_manage_the_team(client, owner, crew, make_user, username):
    make_user("newbie")
    pending = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.EDITOR)
    link = teams.create_link(by=owner, team=crew, role=Role.VIEWER)
    before = roles(crew)
    as_user(client, username)
    other = "vera" if username == "eddie" else "eddie"

    attempts = [
        (url("role", crew.public_id, member(crew, other).pk), {"role": "owner"}),
        (url("role", crew.public_id, member(crew, username).pk), {"role": "owner"}),
        (url("remove", crew.public_id, member(crew, "olivia").pk), {}),
        (url("invite", crew.public_id), {"identifier": "newbie", "role": "owner"}),
        (url("link", crew.public_id), {"role": "owner"}),
        (url("revoke", crew.public_id, pending.pk), {}),
        (url("revoke", crew.public_id, link.pk), {}),
        (url("rename", crew.public_id), {"name": "Hijacked"}),
    ]
    for target, data in attempts:
        assert client.post(target, data).status_code == 403, target

    assert roles(crew) == before
    crew.refresh_from_db()
    assert crew.name == "Poster Crew"
    assert Invite.objects.filter(team=crew).count() == 2
    pending.refresh_from_db()
    link.refresh_from_db()
    assert pending.is_open() and link.is_open()


def test_a_non_member_gets_404_for_every_team_address(client, owner, crew, make_user):
    link = teams.create_link(by=owner, team=crew, role=Role.VIEWER)
    client.force_login(make_user("stranger"))
    m = member(crew, "eddie").pk

    assert client.get(url("detail", crew.public_id)).status_code == 404
    for target in [
        url("role", crew.public_id, m),
        url("remove", crew.public_id, m),
        url("invite", crew.public_id),
        url("link", crew.public_id),
        url("revoke", crew.public_id, link.pk),
        url("rename", crew.public_id),
        url("leave", crew.public_id),
    ]:
        assert client.post(target, {"role": "owner", "name": "x", "identifier": "stranger"}).status_code == 404, target
    assert client.post(reverse("teams:switch"), {"workspace": crew.public_id}).status_code == 404
    assert "stranger" not in roles(crew)


def test_members_of_another_team_are_not_found_through_yours(client, owner, crew, make_user):
    other = make_team(make_user("rival"), "Rivals")
    rival = member(other, "rival")

    assert client.post(url("role", crew.public_id, rival.pk), {"role": "viewer"}).status_code == 404
    assert client.post(url("remove", crew.public_id, rival.pk)).status_code == 404
    assert roles(other) == {"rival": Role.OWNER}


def test_anonymous_visitors_are_sent_to_log_in(client, owner, crew):
    m = member(crew, "eddie").pk
    client.logout()
    login = reverse("accounts:login")

    for target in [url("list"), url("detail", crew.public_id)]:
        assert client.get(target)["Location"].startswith(f"{login}?next="), target
    for target in [url("create"), url("role", crew.public_id, m), url("leave", crew.public_id), url("accept", 1)]:
        assert client.post(target)["Location"].startswith(f"{login}?next="), target
    assert roles(crew) == {"olivia": Role.OWNER, "eddie": Role.EDITOR, "vera": Role.VIEWER}


def test_switching_to_a_team_you_are_not_in_is_a_404(client, owner, make_user):
    other = make_team(make_user("rival"), "Rivals")

    assert client.post(reverse("teams:switch"), {"workspace": other.public_id}).status_code == 404
    assert client.session.get(teams.SESSION_KEY) in (None, teams.PERSONAL)


def test_the_switcher_links_to_teams_and_counts_pending_invitations(client, owner, crew, make_user):
    newbie = make_user("newbie")
    teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.EDITOR)
    client.force_login(newbie)

    html = client.get(url("list")).content.decode()

    assert "Manage teams" in html and "New team" in html
    assert ">1 invite<" in html


def test_an_invite_link_never_makes_owners(owner, crew):
    from accounts import teams as team_services
    from accounts.models import Invite

    with pytest.raises(team_services.TeamError):
        team_services.create_link(by=owner, team=crew, role="owner")
    assert not Invite.objects.filter(team=crew).exists()


def test_the_teams_page_counts_every_member_not_just_me(client, owner, crew):
    client.force_login(owner)
    counts = {t.public_id: t.member_count for t in client.get("/teams").context["teams"]}
    assert counts[crew.public_id] == crew.memberships.count() > 1
