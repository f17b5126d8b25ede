"""The teams pages through Django's test client: teams, members, invitations and links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import teams
from accounts.models import Invite, Membership, Role, Team, User
from tests.studio_factories import make_team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def owner(client, make_user):
    user = make_user("olivia")
    User.objects.filter(pk=user.pk).update(email="olivia@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def crew(owner, make_user):
    """Poster Crew: olivia owns it, eddie edits, vera views."""
    make_user("eddie")
    make_user("vera")
    return make_team(owner, "Poster Crew", eddie=Role.EDITOR, vera=Role.VIEWER)


def member(team: Team, username: str) -> Membership:
    return Membership.objects.get(team=team, user__username=username)


def roles(team: Team) -> dict[str, str]:
    return dict(team.memberships.values_list("user__username", "role"))


def url(name: str, *args: object) -> str:
    return reverse(f"teams:{name}", args=args)


def as_user(client, username: str) -> User:
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


def toasts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


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
    response = client.post(url("link", crew.public_id), {"role": "viewer"}, follow=True)

    link = Invite.objects.get(team=crew, invitee=None)
    assert link.role == Role.VIEWER
    html = response.content.decode()
    assert f'value="http://testserver/invites/{link.token}"' in html
    assert f'data-copy="#link-{link.pk}"' in html


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
