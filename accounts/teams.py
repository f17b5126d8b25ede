"""Teams and workspaces: who belongs where, with which role, and the changes to that.

A `Workspace` is where a user works: their personal space or one of their teams. Every
read and write of shared things (generations, boards, reviews) asks the workspace for
the user's role and `accounts.permissions` for what that role allows. A team that the
user is not a member of does not exist for them (Http404, never a 403 that confirms it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Invite, Membership, Role, Team, User, hash_key
from accounts.permissions import Action, allows, require
from accounts.typing import AuthedHttpRequest

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PERSONAL = "personal"
INVITE_TTL = timedelta(days=7)
SESSION_KEY = "studio.workspace"


class TeamIdRow(TypedDict):
    """A row of `team_ids_for`."""

    team_id: int


class TeamError(ValueError):
    """A team change that cannot be made (a form error, not a permission problem)."""


@dataclass(frozen=True)
class Workspace:
    """The personal workspace (`team` is None, the user owns it) or a team with the user's role."""

    user: User
    team: Team | None
    role: str

    @property
    def key(self) -> str:
        return self.team.public_id if self.team else PERSONAL

    @property
    def name(self) -> str:
        return self.team.name if self.team else "Personal"

    @property
    def is_team(self) -> bool:
        return self.team is not None

    def can(self, action: Action | str) -> bool:
        return allows(self.role, Action(action))

    def require(self, action: Action | str) -> None:
        require(self.role, Action(action))

    @property
    def pending_invitations(self) -> int:
        """Invitations waiting for the user's answer (the switcher's badge; one COUNT when shown)."""
        return pending_invitation_count(self.user)


def personal(user: User) -> Workspace:
    return Workspace(user=user, team=None, role=Role.OWNER)


def membership_of(user: User, team: Team) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(team=team, user=user).first()


def workspace_for(user: User, key: str | None) -> Workspace:
    """The workspace named `key` (a team's public id, or "personal") as `user` sees it; 404 for a non-member."""
    if not key or key == PERSONAL:
        return personal(user)
    team, member = team_for(user, key)
    return Workspace(user=user, team=team, role=member.role)


def workspace_of_team(user: User, team: Team | None) -> Workspace:
    """The workspace a shared thing lives in (its `team`), with `user`'s role; 404 for a non-member."""
    if team is None:
        return personal(user)
    member = membership_of(user, team)
    if member is None:
        raise Http404("No such team.")
    return Workspace(user=user, team=team, role=member.role)


def workspaces_for(user: User) -> list[Workspace]:
    """Personal first, then the user's teams by name."""
    members = Membership.objects.filter(user=user).select_related("team").order_by("team__name", "team_id")
    return [personal(user), *(Workspace(user=user, team=m.team, role=m.role) for m in members)]


def team_ids_for(user: User | int) -> QuerySet[Membership, TeamIdRow]:
    """A subquery of the ids of the teams `user` (a user or a user's id) belongs to."""
    return Membership.objects.filter(user=user).values("team_id")


class TeamListing(TypedDict):
    """What `teams_for` annotates on each team."""

    member_count: int
    my_role: str


def teams_for(user: User) -> QuerySet[WithAnnotations[Team, TeamListing]]:
    """The user's teams by name, with `member_count` (everyone in the team) and `my_role` (the user's role)."""
    mine = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Team.objects.filter(pk__in=team_ids_for(user))
        .annotate(member_count=Count("memberships", distinct=True), my_role=Subquery(mine))
        .order_by("name", "id")
    )


def team_for(user: User, public_id: str) -> tuple[Team, Membership]:
    member = get_object_or_404(Membership.objects.select_related("team"), team__public_id=public_id, user=user)
    return member.team, member


def members(team: Team) -> list[Membership]:
    return list(team.memberships.select_related("user").order_by("joined_at", "id"))


def open_invites(team: Team) -> list[Invite]:
    now = timezone.now()
    return list(
        team.invites.filter(revoked_at__isnull=True, accepted_at__isnull=True, expires_at__gt=now).select_related(
            "invitee", "created_by"
        )
    )


def _waiting_invitations(user: User) -> QuerySet[Invite]:
    now = timezone.now()
    return Invite.objects.filter(
        invitee=user, revoked_at__isnull=True, accepted_at__isnull=True, expires_at__gt=now
    ).exclude(team__memberships__user=user)


def invitations_for(user: User) -> list[Invite]:
    """Personal invitations waiting for `user`'s answer."""
    return list(_waiting_invitations(user).select_related("team", "created_by"))


def pending_invitation_count(user: User) -> int:
    """How many personal invitations wait for `user`'s answer (the switcher's badge)."""
    return _waiting_invitations(user).count()


def open_invite_by_token(token: str) -> Invite:
    """The open invite whose link carries `token` (only its hash is stored); 404 for any other."""
    invite = get_object_or_404(Invite.objects.select_related("team", "invitee"), token_hash=hash_key(token))
    if not invite.is_open():
        raise Http404("This invitation is not valid any more.")
    return invite


# --- Changes ---------------------------------------------------------------------------------


def _require_owner(user: User, team: Team) -> None:
    member = membership_of(user, team)
    if member is None:
        raise Http404("No such team.")
    require(member.role, Action.MANAGE_MEMBERS)


def create_team(*, user: User, name: str) -> Team:
    """A new team whose first owner is `user`."""
    name = name.strip()
    if not name:
        raise TeamError("Give the team a name.")
    with transaction.atomic():
        team = Team.objects.create(name=name[:80], created_by=user)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def find_user(identifier: str) -> User | None:
    identifier = identifier.strip()
    if not identifier:
        return None
    return User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier)).order_by("pk").first()


def invite_user(*, by: User, team: Team, identifier: str, role: str) -> Invite:
    """Invite an existing user (by username or email) to `team`; they accept on their Teams page."""
    _require_owner(by, team)
    _check_role(role)
    invitee = find_user(identifier)
    if invitee is None:
        raise TeamError(f"No Studio user has the username or email {identifier.strip()!r}.")
    if membership_of(invitee, team):
        raise TeamError(f"{invitee.username} is already a member of {team.name}.")
    with transaction.atomic():
        # A newer invitation replaces an older one to the same person.
        Invite.objects.filter(team=team, invitee=invitee, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        invite = Invite.objects.create(
            team=team, invitee=invitee, role=role, created_by=by, expires_at=timezone.now() + INVITE_TTL
        )
    if invitee.email:
        transaction.on_commit(lambda: _mail_invite(invite, invitee))
    return invite


def _mail_invite(invite: Invite, invitee: User) -> None:
    base = getattr(settings, "STUDIO_PUBLIC_URL", "") or settings.STUDIO_WEBHOOK_LINK_BASE_URL
    send_mail(
        subject=f"{invite.created_by or 'Someone'} invited you to {invite.team.name} on Studio",
        message=(
            f"You are invited to the team {invite.team.name} as {invite.get_role_display().lower()}.\n\n"
            f"Accept or decline on your Teams page: {base.rstrip('/')}/teams\n"
        ),
        from_email=None,
        recipient_list=[invitee.email],
        fail_silently=True,
    )


def create_link(*, by: User, team: Team, role: str) -> Invite:
    """A link invite: anyone logged in who opens it within a week joins with `role`.

    Never as an owner: a link can be forwarded, so ownership is given to a named person only.
    The returned invite's `token` is the only copy of the link's token: show it this once.
    """
    _require_owner(by, team)
    _check_role(role)
    if role == Role.OWNER:
        raise TeamError("A link can invite editors or viewers; make someone an owner from the members list.")
    return Invite.objects.create(team=team, role=role, created_by=by, expires_at=timezone.now() + INVITE_TTL)


def revoke_invite(*, by: User, invite: Invite) -> None:
    _require_owner(by, invite.team)
    Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def accept_invite(*, user: User, invite: Invite) -> Membership:
    """Join the invite's team with its role (a member already keeps the role they have)."""
    if invite.invitee_id is not None and invite.invitee_id != user.pk:
        raise Http404("This invitation is for someone else.")
    with transaction.atomic():
        locked = Invite.objects.select_for_update().get(pk=invite.pk)
        if not locked.is_open():
            raise TeamError("This invitation is not valid any more.")
        member, created = Membership.objects.get_or_create(team=locked.team, user=user, defaults={"role": locked.role})
        if created:
            locked.uses += 1
        if locked.invitee_id is not None:
            locked.accepted_at = timezone.now()
        locked.save(update_fields=["uses", "accepted_at"])
    return member


def decline_invite(*, user: User, invite: Invite) -> None:
    if invite.invitee_id != user.pk:
        raise Http404("This invitation is for someone else.")
    Invite.objects.filter(pk=invite.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise TeamError(f"Pick a role: {', '.join(Role.values)}.")


def _owners_left(team: Team, *, without: Membership) -> int:
    return team.memberships.filter(role=Role.OWNER).exclude(pk=without.pk).count()


def change_role(*, by: User, member: Membership, role: str) -> Membership:
    _require_owner(by, member.team)
    _check_role(role)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=member.team_id)  # one owner change at a time
        if member.role == Role.OWNER and role != Role.OWNER and not _owners_left(member.team, without=member):
            raise TeamError("A team needs at least one owner: make someone else an owner first.")
        member.role = role
        member.save(update_fields=["role"])
    return member


def remove_member(*, by: User, member: Membership) -> None:
    """An owner removes a member, or a member leaves (`by` is the member)."""
    if by.pk != member.user_id:
        _require_owner(by, member.team)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=member.team_id)
        if member.role == Role.OWNER and not _owners_left(member.team, without=member):
            raise TeamError("A team needs at least one owner: make someone else an owner before leaving.")
        member.delete()


def rename_team(*, by: User, team: Team, name: str) -> Team:
    _require_owner(by, team)
    if not name.strip():
        raise TeamError("Give the team a name.")
    team.name = name.strip()[:80]
    team.save(update_fields=["name"])
    return team


def current(request: AuthedHttpRequest) -> Workspace:
    """The workspace the browser session works in; Personal when none is chosen or the team is gone.

    Looked up once per request (views and the template context share it).
    """
    cached = getattr(request, "_studio_workspace", None)
    if cached is not None:
        return cached
    key = request.session.get(SESSION_KEY)
    try:
        workspace = workspace_for(request.user, key)
    except Http404:  # removed from the team meanwhile
        request.session.pop(SESSION_KEY, None)
        workspace = personal(request.user)
    request._studio_workspace = workspace
    return workspace


def switch(request: AuthedHttpRequest, key: str) -> Workspace:
    """Make `key` the session's workspace (404 for a team the user is not in)."""
    workspace = workspace_for(request.user, key)
    request.session[SESSION_KEY] = workspace.key
    request._studio_workspace = workspace
    return workspace


# --- Reads for the teams pages ---------------------------------------------------------------


def member_of(team: Team, member_id: int) -> Membership:
    """One membership of `team` by its id (404 for any other)."""
    return get_object_or_404(team.memberships.select_related("user", "team"), pk=member_id)


def invite_of(team: Team, invite_id: int) -> Invite:
    """One invite of `team` by its id, in any state (404 for any other)."""
    return get_object_or_404(team.invites.select_related("team", "invitee"), pk=invite_id)


def invitation_for(user: User, invite_id: int) -> Invite:
    """A personal invitation addressed to `user`, in any state (404 for anyone else's)."""
    return get_object_or_404(Invite.objects.select_related("team", "created_by"), pk=invite_id, invitee=user)
