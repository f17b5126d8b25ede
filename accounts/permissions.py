"""Who may do what in a workspace: one table, checked on the server by every door.

A personal workspace is a workspace whose only member is its owner. In a team, the role
decides: owners manage members, editors generate and review, viewers look, star,
comment and download. Templates may ask `can(...)` to hide a button, but the services
and views check again: anyone can send the request a hidden button would have sent.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied

from accounts.models import Role


class Action(StrEnum):
    VIEW = "view"
    GENERATE = "generate"
    REVIEW = "review"
    COMMENT = "comment"
    STAR = "star"
    EDIT_BOARDS = "edit_boards"
    DOWNLOAD = "download"
    MANAGE_MEMBERS = "manage_members"


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
}


class Forbidden(PermissionDenied):
    """The user is in the workspace but their role does not allow the action (HTTP 403)."""


def allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ALLOWED.get(role, frozenset())


def require(role: str | None, action: Action) -> None:
    if not allows(role, action):
        raise Forbidden(MESSAGES.get(action, "Your role in this team does not allow that."))
