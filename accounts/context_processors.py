"""Template context for every page: the current workspace and the ones the user can switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts import teams


def workspace(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # `workspaces` is a callable, so only pages that show the switcher run its query.
    return {"workspace": teams.current(request), "workspaces": lambda: teams.workspaces_for(user)}
