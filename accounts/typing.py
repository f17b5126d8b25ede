"""Request types for the type checker: what the middleware and the API's auth put on a request.

`AuthedHttpRequest` is the request a login-required view gets (`request.user` is a real
`User`, django-htmx's `request.htmx` is there); `ApiRequest` is the request a `/v1`
endpoint gets after `ApiKeyAuth` (`request.auth` is the caller's `ApiKey`). Nothing here
changes a request at run time: the annotations only describe it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from accounts.models import ApiKey, User
    from accounts.ratelimit import Window
    from accounts.teams import Workspace


class AuthedHttpRequest(HttpRequest):
    """A request from a signed-in user (behind `login_required`), through `HtmxMiddleware`."""

    user: User
    htmx: HtmxDetails
    _studio_workspace: Workspace  # `accounts.teams.current` caches the session's workspace here


class ApiRequest(HttpRequest):
    """A `/v1` request that `ApiKeyAuth` let through: `auth` is the key, `auth.user` its account."""

    auth: ApiKey
    rate_window: Window  # the per-minute allowance counted for this call (`accounts.ratelimit`)


def is_authed(request: HttpRequest) -> TypeGuard[AuthedHttpRequest]:
    """Whether `request` comes from a signed-in user (False too where no auth middleware ran)."""
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
