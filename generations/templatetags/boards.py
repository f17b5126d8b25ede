"""Template helpers for boards: the boards a page's selection bar can add images to."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import teams
from accounts.permissions import Action
from accounts.teams import Workspace
from generations.models import Board
from generations.review import selectors as review_selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def selection_boards(
    context: dict[str, Any], workspace: Workspace | None = None, exclude: Board | None = None
) -> list[Board]:
    """The boards of `workspace` (default: the session's) the user may add images to; none for a viewer."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    workspace = workspace or teams.current(request)
    if not workspace.can(Action.EDIT_BOARDS):
        return []
    boards = review_selectors.workspace_boards(workspace)
    return list(boards.exclude(pk=exclude.pk) if exclude else boards)
