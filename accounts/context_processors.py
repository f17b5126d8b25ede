"""Template context for every page: the current workspace and the ones the user can switch to,
and which section of the navigation the page belongs to (`nav_section`, `settings_page`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts import teams
from accounts.typing import is_authed


def workspace(request: HttpRequest) -> dict[str, Any]:
    if not is_authed(request):
        return {}
    user = request.user
    # `workspaces` is a callable, so only pages that show the switcher run its query.
    return {"workspace": teams.current(request), "workspaces": lambda: teams.workspaces_for(user)}


# Both tables map a (URL namespace, URL name) to a navigation entry; `None` as the name
# stands for every other page of the namespace.
_NavTable = dict[tuple[str, str | None], str]
# The top navigation's section; the settings pages live in three namespaces.
_NAV_SECTIONS: _NavTable = {
    ("generations", None): "studio",
    ("review", None): "review",
    ("boards", None): "boards",
    ("accounts", "login"): "login",
    ("accounts", None): "settings",
    ("teams", None): "settings",
    ("webhooks", None): "settings",
}
# The settings side navigation's entry.
_SETTINGS_PAGES: _NavTable = {
    ("accounts", "keys"): "keys",
    ("accounts", "revoke_key"): "keys",
    ("accounts", "credits"): "credits",
    ("accounts", "password_change"): "password",
    ("teams", None): "teams",
    ("webhooks", None): "webhooks",
}


def nav(request: HttpRequest) -> dict[str, Any]:
    """Where the page sits in the navigation, from the URL it was resolved from.

    `nav_section` is the top bar's current link ("studio", "review", "boards",
    "settings", or "login"), `settings_page` the settings side bar's ("keys",
    "credits", "teams", "webhooks", "password"); either is "" when none applies.
    Templates only compare with these values.
    """
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": "", "settings_page": ""}
    key = (match.namespace, match.url_name)
    return {"nav_section": _entry(_NAV_SECTIONS, *key), "settings_page": _entry(_SETTINGS_PAGES, *key)}


def _entry(table: _NavTable, namespace: str, url_name: str) -> str:
    return table.get((namespace, url_name)) or table.get((namespace, None), "")
