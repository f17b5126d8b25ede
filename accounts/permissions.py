"""Who may do what in a workspace: one table, checked on the server by every door.

A personal workspace is a workspace whose only member is its owner. In a team, the role
decides: owners manage members, editors generate and review, viewers look, star,
comment and download (`ROLE_DESCRIPTIONS` says so in words, for the pages). Deleting an
image is no role's right: only whoever generated it may (`may_delete`), in any workspace.
Views pass the answers to templates as booleans to hide a button, but the services and
views check again: anyone can send the request a hidden button would have sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from django.core.exceptions import PermissionDenied

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import User
    from generations.models import Generation


class Action(StrEnum):
    VIEW = "view"
    GENERATE = "generate"
    REVIEW = "review"
    COMMENT = "comment"
    STAR = "star"
    EDIT_BOARDS = "edit_boards"
    DOWNLOAD = "download"
    MANAGE_MEMBERS = "manage_members"
    DELETE = "delete"  # in no role: see `may_delete`


_VIEWER = {Action.VIEW, Action.STAR, Action.COMMENT, Action.DOWNLOAD}
_EDITOR = _VIEWER | {Action.GENERATE, Action.REVIEW, Action.EDIT_BOARDS}
ALLOWED: dict[str, frozenset[Action]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.EDITOR: frozenset(_EDITOR),
    Role.OWNER: frozenset(_EDITOR | {Action.MANAGE_MEMBERS}),
}

MESSAGES = {
    Action.GENERATE: "Viewers can't generate in this team; ask an owner to make you an editor.",
    Action.REVIEW: "Only editors and owners review images in this team.",
    Action.EDIT_BOARDS: "Only editors and owners change this team's boards.",
    Action.MANAGE_MEMBERS: "Only the team's owners manage its members.",
    Action.DELETE: "Only the person who generated an image can delete it.",
}


class RoleDescription(NamedTuple):
    """`ALLOWED` in words: `summary` for the roles legend, `joining` for someone joining with the role."""

    summary: str
    joining: str


ROLE_DESCRIPTIONS: dict[str, RoleDescription] = {
    Role.OWNER: RoleDescription(
        "Manages members and roles, invites people, renames the team.",
        "You'll manage members and roles, generate and review.",
    ),
    Role.EDITOR: RoleDescription(
        "Generates into the team and reviews its images.",
        "You'll generate into the team and review its images.",
    ),
    Role.VIEWER: RoleDescription(
        "Views, stars, comments and downloads.",
        "You'll view, star, comment on and download the team's images.",
    ),
}


def role_legend() -> list[tuple[str, str, str]]:
    """(role, label, summary) for every role, owner first: the roles legend's rows."""
    return [(value, label, ROLE_DESCRIPTIONS[value].summary) for value, label in Role.choices]


class Forbidden(PermissionDenied):
    """The user is in the workspace but their role does not allow the action (HTTP 403)."""


def allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ALLOWED.get(role, frozenset())


def require(role: str | None, action: Action) -> None:
    if not allows(role, action):
        raise Forbidden(MESSAGES.get(action, "Your role in this team does not allow that."))


def may_delete(user: User, generation: Generation) -> bool:
    """Whether `user` may delete `generation` (`Action.DELETE`): its creator only, whatever
    their role. Teammates review an image; they don't remove it, an owner included."""
    return generation.user_id == user.pk
