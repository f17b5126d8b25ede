"""The teams pages through Django's test client: your teams, invitations and invite links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import teams
from accounts.models import Invite, Role, Team, User, hash_key
from tests.teams.support import as_user, roles, toasts, url

pytestmark = pytest.mark.django_db


# --- Your teams ------------------------------------------------------------------------


def test_teams_page_without_teams_explains_what_teams_are_for(client, owner):
    html = client.get(url("list")).content.decode()

    assert "You're not in a team yet" in html
    assert "one designer generates, the others review" in html
    assert "Credits stay with whoever generates" in html
    assert 'action="/teams/new"' in html


def test_teams_page_lists_teams_with_role_members_and_switch(client, owner, crew):
    html = client.get(url("list")).content.decode()

    assert "Poster Crew" in html
    assert url("detail", crew.public_id) in html
    assert f'name="workspace" value="{crew.public_id}"' in html
    assert 'class="role-badge role-owner">Owner<' in html
    assert '<td class="num" data-label="Members">3</td>' in html


def test_creating_a_team_makes_you_owner_and_switches_to_it(client, owner):
    response = client.post(url("create"), {"name": "  Launch Team  "}, follow=True)

    team = Team.objects.get(name="Launch Team")
    assert response.redirect_chain[-1][0] == url("detail", team.public_id)
    assert roles(team) == {"olivia": Role.OWNER}
    assert client.session[teams.SESSION_KEY] == team.public_id
    assert any("Created Launch Team" in t for t in toasts(response))
    assert "Invite by username or email" in response.content.decode()


def test_creating_a_team_without_a_name_is_a_form_error(client, owner):
    response = client.post(url("create"), {"name": "   "})

    assert response.status_code == 422
    assert "Give the team a name." in response.content.decode()
    assert not Team.objects.exists()


# --- Invitations -----------------------------------------------------------------------


def test_owner_invites_by_username_and_the_invitee_sees_it(client, owner, crew, make_user):
    make_user("newbie")
    response = client.post(url("invite", crew.public_id), {"identifier": "newbie", "role": "editor"}, follow=True)

    invite = Invite.objects.get(team=crew, invitee__username="newbie")
    assert invite.role == Role.EDITOR
    assert any("Invited newbie as editor" in t for t in toasts(response))
    assert f'id="invite-{invite.pk}"' in response.content.decode()  # listed as pending

    as_user(client, "newbie")
    html = client.get(url("list")).content.decode()
    assert "Invitations for you" in html
    assert "olivia invited you" in html
    assert url("accept", invite.pk) in html and url("decline", invite.pk) in html


def test_owner_invites_by_email_and_a_mail_goes_out(
    client, owner, crew, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    friend = make_user("friend")
    User.objects.filter(pk=friend.pk).update(email="Friend@Example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("invite", crew.public_id), {"identifier": "friend@example.com", "role": "viewer"})

    assert response.status_code == 302
    assert Invite.objects.get(team=crew, invitee=friend).role == Role.VIEWER
    assert [m.to for m in mailoutbox] == [["Friend@Example.com"]]
    assert "Poster Crew" in mailoutbox[0].subject


def test_inviting_an_unknown_user_or_a_member_is_a_form_error(client, owner, crew):
    response = client.post(url("invite", crew.public_id), {"identifier": "ghost", "role": "editor"})
    assert response.status_code == 422
    assert "No Studio user has the username or email" in response.content.decode()

    response = client.post(url("invite", crew.public_id), {"identifier": "eddie", "role": "editor"})
    assert response.status_code == 422
    assert "eddie is already a member of Poster Crew." in response.content.decode()
    assert not Invite.objects.exists()


def test_accepting_an_invitation_joins_switches_and_goes_to_the_studio(client, owner, crew, make_user):
    newbie = make_user("newbie")
    invite = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.EDITOR)
    client.force_login(newbie)

    response = client.post(url("accept", invite.pk))

    assert response.status_code == 302
    assert response["Location"] == reverse("generations:studio")
    assert roles(crew)["newbie"] == Role.EDITOR
    assert client.session[teams.SESSION_KEY] == crew.public_id
    invite.refresh_from_db()
    assert invite.accepted_at is not None


def test_declining_an_invitation_changes_nothing_but_the_invitation(client, owner, crew, make_user):
    newbie = make_user("newbie")
    invite = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.EDITOR)
    client.force_login(newbie)

    response = client.post(url("decline", invite.pk), follow=True)

    assert "newbie" not in roles(crew)
    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert any("Declined the invitation to Poster Crew" in t for t in toasts(response))
    assert "Invitations for you" not in response.content.decode()


def test_only_the_invitee_can_answer_an_invitation(client, owner, crew, make_user):
    make_user("newbie")
    invite = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.EDITOR)
    as_user(client, "eddie")

    assert client.post(url("accept", invite.pk)).status_code == 404
    assert client.post(url("decline", invite.pk)).status_code == 404
    invite.refresh_from_db()
    assert invite.is_open()


def test_owner_revokes_a_personal_invitation(client, owner, crew, make_user):
    make_user("newbie")
    invite = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.EDITOR)

    response = client.post(url("revoke", crew.public_id, invite.pk), follow=True)

    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert any("Revoked the invitation to newbie" in t for t in toasts(response))


# --- Invite links ----------------------------------------------------------------------


def test_owner_creates_a_link_and_sees_its_full_address(client, owner, crew):
    response = client.post(url("link", crew.public_id), {"role": "viewer"})

    link = Invite.objects.get(team=crew, invitee=None)
    assert link.role == Role.VIEWER
    html = response.content.decode()
    token = re.search(r'value="http://testserver/invites/([^"]+)"', html).group(1)
    assert link.token_hash == hash_key(token)  # the link shown is the one stored (hashed)
    assert f'data-copy="#link-{link.pk}"' in html
    assert "shown only this once" in html


def test_joining_by_link_shows_the_team_and_role_then_joins(client, owner, crew, make_user):
    link = teams.create_link(by=owner, team=crew, role=Role.VIEWER)
    guest = make_user("guest")
    client.force_login(guest)

    page = client.get(url("join", link.token))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Join Poster Crew as viewer" in html
    assert "olivia" in html

    response = client.post(url("join", link.token))
    assert response["Location"] == reverse("generations:studio")
    assert roles(crew)["guest"] == Role.VIEWER
    assert client.session[teams.SESSION_KEY] == crew.public_id
    link.refresh_from_db()
    assert link.uses == 1 and link.is_open()  # a link keeps working for the next person


def test_anonymous_visitor_of_a_link_logs_in_first_and_comes_back(client, owner, crew):
    link = teams.create_link(by=owner, team=crew, role=Role.EDITOR)
    client.logout()

    response = client.get(url("join", link.token))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url('join', link.token)}"


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown"])
def test_a_link_that_is_no_longer_valid_is_a_friendly_404(client, owner, crew, make_user, state):
    link = teams.create_link(by=owner, team=crew, role=Role.EDITOR)
    if state == "expired":
        Invite.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif state == "revoked":
        client.post(url("revoke", crew.public_id, link.pk))
    token = link.token if state != "unknown" else "no-such-token"
    client.force_login(make_user("guest"))

    page = client.get(url("join", token))
    assert page.status_code == 404
    assert "This invitation isn't valid any more" in page.content.decode()
    assert client.post(url("join", token)).status_code == 404
    assert "guest" not in roles(crew)


def test_someone_elses_personal_invite_token_is_a_404(client, owner, crew, make_user):
    make_user("newbie")
    invite = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.OWNER)
    client.force_login(make_user("intruder"))

    assert client.get(url("join", invite.token)).status_code == 404
    assert client.post(url("join", invite.token)).status_code == 404
    assert "intruder" not in roles(crew)
