"""Teams pages: the workspace switcher, teams, members, invitations.

Each view parses the request, calls `accounts.teams` and either redirects with a toast
(post/redirect/get) or re-renders its page with the error beside the form that caused it
(status 422). Creating an invite link is the exception: like a new API key, the link is
shown in the response to the POST that made it (never stored in clear, never in the
session or a toast) and the page afterwards shows only its first characters. The service
decides who may do what: a non-member gets 404 from `teams.team_for`, a member whose role
forbids the change gets `Forbidden` (403).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts import teams
from accounts.forms_teams import InviteForm, LinkForm, RoleForm, TeamNameForm
from accounts.models import Invite, Membership, Role, Team
from accounts.permissions import ROLE_DESCRIPTIONS, Action, allows, require, role_legend
from accounts.typing import AuthedHttpRequest


def _next(request: AuthedHttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _role_name(role: str) -> str:
    return Role(role).label.lower()


def _as_role(role: str) -> str:
    """The role with its article, for a sentence: "an editor", "an owner", "a viewer"."""
    name = _role_name(role)
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def join_url(request: AuthedHttpRequest, token: str) -> str:
    """The absolute address of a link invite with `token`, as the people it is sent to will open it."""
    path = reverse("teams:join", args=[token])
    if settings.STUDIO_PUBLIC_URL:
        return settings.STUDIO_PUBLIC_URL + path
    return request.build_absolute_uri(path)


@login_required
@require_POST
def switch_workspace(request: AuthedHttpRequest) -> HttpResponse:
    """Work in another workspace (Personal or a team the user belongs to), then go to its studio."""
    workspace = teams.switch(request, request.POST.get("workspace", teams.PERSONAL))
    messages.info(request, f"Now working in {workspace.name}.")
    return redirect(_next(request, reverse("generations:studio")))


# --- Your teams ------------------------------------------------------------------------------


def _render_list(request: AuthedHttpRequest, *, form: TeamNameForm | None = None, status: int = 200) -> HttpResponse:
    mine = list(teams.teams_for(request.user))
    for team in mine:
        team.can_manage = allows(team.my_role, Action.MANAGE_MEMBERS)
    context = {
        "teams": mine,
        "invitations": teams.invitations_for(request.user),
        "form": form or TeamNameForm(),
        "role_legend": role_legend(),
    }
    return render(request, "accounts/teams.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def team_list(request: AuthedHttpRequest) -> HttpResponse:
    """The user's teams, the invitations waiting for them, and a form to start a team."""
    return _render_list(request)


@login_required
@require_POST
def create(request: AuthedHttpRequest) -> HttpResponse:
    form = TeamNameForm(request.POST)
    if not form.is_valid():
        return _render_list(request, form=form, status=422)
    try:
        team = teams.create_team(user=request.user, name=form.cleaned_data["name"])
    except teams.TeamError as exc:
        form.add_error("name", str(exc))
        return _render_list(request, form=form, status=422)
    teams.switch(request, team.public_id)
    messages.success(request, f"Created {team.name}. You're its owner and now working in it: invite people below.")
    return redirect("teams:detail", team_id=team.public_id)


# --- One team --------------------------------------------------------------------------------


def _owner_context(
    request: AuthedHttpRequest,
    team: Team,
    invite_form: InviteForm | None,
    link_form: LinkForm | None,
    rename_form: TeamNameForm | None,
    new_link: Invite | None,
) -> dict[str, Any]:
    invites = teams.open_invites(team)
    return {
        "personal_invites": [i for i in invites if not i.is_link],
        "link_invites": [i for i in invites if i.is_link],
        "invite_form": invite_form or InviteForm(),
        "link_form": link_form or LinkForm(),
        "rename_form": rename_form or TeamNameForm(initial={"name": team.name}),
        # Only the hash of a link's token is stored: its address exists in this one response.
        "new_link": new_link,
        "new_link_url": join_url(request, new_link.token) if new_link else "",
    }


def _render_team(
    request: AuthedHttpRequest,
    team: Team,
    me: Membership,
    *,
    status: int = 200,
    invite_form: InviteForm | None = None,
    link_form: LinkForm | None = None,
    rename_form: TeamNameForm | None = None,
    members_error: str = "",
    member_error_id: int | None = None,
    leave_error: str = "",
    new_link: Invite | None = None,
) -> HttpResponse:
    is_owner = allows(me.role, Action.MANAGE_MEMBERS)
    context: dict[str, Any] = {
        "team": team,
        "me": me,
        "is_owner": is_owner,
        "members": teams.members(team),
        "roles": Role.choices,
        "role_legend": role_legend(),
        "members_error": members_error,
        "member_error_id": member_error_id,
        "leave_error": leave_error,
        "is_current": teams.current(request).key == team.public_id,
    }
    if is_owner:  # invites are for the owners' eyes only
        context.update(_owner_context(request, team, invite_form, link_form, rename_form, new_link))
    response = render(request, "accounts/team.html", context, status=status)
    if new_link:
        add_never_cache_headers(response)  # the back button must not bring the link back from a cache
    return response


@login_required
@require_http_methods(["GET"])
def detail(request: AuthedHttpRequest, team_id: str) -> HttpResponse:
    team, me = teams.team_for(request.user, team_id)
    return _render_team(request, team, me)


def _managed_team(request: AuthedHttpRequest, team_id: str) -> tuple[Team, Membership]:
    """The team and my membership, if my role may manage its members (404 outside it, 403 below owner)."""
    team, me = teams.team_for(request.user, team_id)
    require(me.role, Action.MANAGE_MEMBERS)
    return team, me


def _back_to(team: Team, anchor: str = "") -> HttpResponse:
    url = reverse("teams:detail", kwargs={"team_id": team.public_id})
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
def change_role(request: AuthedHttpRequest, team_id: str, member_id: int) -> HttpResponse:
    team, me = _managed_team(request, team_id)
    member = teams.member_of(team, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render_team(
            request, team, me, status=422, members_error="Pick one of the roles.", member_error_id=member.pk
        )
    if form.cleaned_data["role"] == member.role:
        messages.info(request, f"{member.user.username} is already {_role_name(member.role)}.")
        return _back_to(team, "members")
    try:
        teams.change_role(by=request.user, member=member, role=form.cleaned_data["role"])
    except teams.TeamError as exc:
        return _render_team(request, team, me, status=422, members_error=str(exc), member_error_id=member.pk)
    messages.success(request, f"{member.user.username} is now {_role_name(member.role)}.")
    if member.user_id == request.user.pk and not allows(member.role, Action.MANAGE_MEMBERS):
        return _back_to(team)  # they can no longer manage the team they just stepped down in
    return _back_to(team, "members")


@login_required
@require_POST
def remove(request: AuthedHttpRequest, team_id: str, member_id: int) -> HttpResponse:
    team, me = teams.team_for(request.user, team_id)
    member = teams.member_of(team, member_id)
    if member.pk == me.pk:
        return _leave(request, team, me)
    require(me.role, Action.MANAGE_MEMBERS)
    try:
        teams.remove_member(by=request.user, member=member)
    except teams.TeamError as exc:
        return _render_team(request, team, me, status=422, members_error=str(exc), member_error_id=member.pk)
    messages.success(request, f"Removed {member.user.username} from {team.name}.")
    return _back_to(team, "members")


@login_required
@require_POST
def leave(request: AuthedHttpRequest, team_id: str) -> HttpResponse:
    team, me = teams.team_for(request.user, team_id)
    return _leave(request, team, me)


def _leave(request: AuthedHttpRequest, team: Team, me: Membership) -> HttpResponse:
    was_current = teams.current(request).key == team.public_id
    try:
        teams.remove_member(by=request.user, member=me)
    except teams.TeamError as exc:
        return _render_team(request, team, me, status=422, leave_error=str(exc))
    if was_current:
        teams.switch(request, teams.PERSONAL)
        messages.success(request, f"You left {team.name}. You're working in your personal workspace again.")
    else:
        messages.success(request, f"You left {team.name}.")
    return redirect("teams:list")


@login_required
@require_POST
def invite(request: AuthedHttpRequest, team_id: str) -> HttpResponse:
    team, me = _managed_team(request, team_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _render_team(request, team, me, status=422, invite_form=form)
    try:
        sent = teams.invite_user(by=request.user, team=team, **form.cleaned_data)
    except teams.TeamError as exc:
        form.add_error("identifier", str(exc))
        return _render_team(request, team, me, status=422, invite_form=form)
    assert sent.invitee is not None  # an invitation to a person, not a link
    messages.success(
        request,
        f"Invited {sent.invitee.username} as {_role_name(sent.role)}. They'll find it on their Teams page.",
    )
    return _back_to(team, "invites")


@login_required
@require_POST
def create_link(request: AuthedHttpRequest, team_id: str) -> HttpResponse:
    team, me = _managed_team(request, team_id)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _render_team(request, team, me, status=422, link_form=form)
    link = teams.create_link(by=request.user, team=team, role=form.cleaned_data["role"])
    messages.success(
        request,
        f"Created an invite link for {_role_name(link.role)}s. Copy it now: it is shown only this once, "
        "and works for 7 days.",
    )
    return _render_team(request, team, me, new_link=link)  # not a redirect: the link is in this page only


@login_required
@require_POST
def revoke(request: AuthedHttpRequest, team_id: str, invite_id: int) -> HttpResponse:
    team, _ = _managed_team(request, team_id)
    target = teams.invite_of(team, invite_id)
    teams.revoke_invite(by=request.user, invite=target)
    if target.invitee is None:  # an invite link
        messages.success(request, "Revoked the invite link. Anyone who opens it now is told it's no longer valid.")
        return _back_to(team, "links")
    messages.success(request, f"Revoked the invitation to {target.invitee.username}.")
    return _back_to(team, "invites")


@login_required
@require_POST
def rename(request: AuthedHttpRequest, team_id: str) -> HttpResponse:
    team, me = _managed_team(request, team_id)
    form = TeamNameForm(request.POST)
    if not form.is_valid():
        return _render_team(request, team, me, status=422, rename_form=form)
    old = team.name
    try:
        teams.rename_team(by=request.user, team=team, name=form.cleaned_data["name"])
    except teams.TeamError as exc:
        form.add_error("name", str(exc))
        return _render_team(request, team, me, status=422, rename_form=form)
    messages.success(request, f"Renamed {old} to {team.name}.")
    return _back_to(team)


# --- Invitations -----------------------------------------------------------------------------


@login_required
@require_POST
def accept(request: AuthedHttpRequest, invite_id: int) -> HttpResponse:
    invitation = teams.invitation_for(request.user, invite_id)
    try:
        member = teams.accept_invite(user=request.user, invite=invitation)
    except teams.TeamError as exc:
        messages.error(request, str(exc))
        return redirect("teams:list")
    teams.switch(request, invitation.team.public_id)
    messages.success(request, f"Welcome to {invitation.team.name}! You're {_as_role(member.role)} here.")
    return redirect("generations:studio")


@login_required
@require_POST
def decline(request: AuthedHttpRequest, invite_id: int) -> HttpResponse:
    invitation = teams.invitation_for(request.user, invite_id)
    if not invitation.is_open():
        messages.info(request, f"The invitation to {invitation.team.name} was already answered or has expired.")
        return redirect("teams:list")
    teams.decline_invite(user=request.user, invite=invitation)
    messages.success(request, f"Declined the invitation to {invitation.team.name}.")
    return redirect("teams:list")


@login_required
@require_http_methods(["GET", "POST"])
def join(request: AuthedHttpRequest, token: str) -> HttpResponse:
    """A link invite (or one's own personal invite): who invites you where; Join accepts it."""
    try:
        invitation = teams.open_invite_by_token(token)
        if invitation.invitee_id is not None and invitation.invitee_id != request.user.pk:
            raise Http404("This invitation is for someone else.")
    except Http404:
        return render(request, "accounts/join.html", {"invitation": None}, status=404)
    already = teams.membership_of(request.user, invitation.team)
    if request.method == "GET":
        context = {
            "invitation": invitation,
            "membership": already,
            "role_description": ROLE_DESCRIPTIONS[invitation.role].joining,
        }
        return render(request, "accounts/join.html", context)
    try:
        member = teams.accept_invite(user=request.user, invite=invitation)
    except teams.TeamError:
        return render(request, "accounts/join.html", {"invitation": None}, status=404)
    teams.switch(request, invitation.team.public_id)
    if already:
        messages.info(request, f"You're already in {invitation.team.name}; now working in it.")
    else:
        messages.success(request, f"Welcome to {invitation.team.name}! You're {_as_role(member.role)} here.")
    return redirect("generations:studio")
