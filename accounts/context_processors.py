"""Template context for every page: the current workspace and the ones the user can switch to,
which section of the navigation the page belongs to (`nav_section`, `settings_page`), and
the visitor's locale for dates (`request_locale`).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

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
    ("", "home"): "studio",
    ("generations", None): "studio",
    ("generations", "shared"): "",
    ("review", None): "review",
    ("boards", None): "boards",
    ("accounts", "login"): "login",
    ("teams", None): "teams",
    ("accounts", None): "settings",
    ("webhooks", None): "settings",
}
# The settings side navigation's entry.
_SETTINGS_PAGES: _NavTable = {
    ("accounts", "keys"): "keys",
    ("accounts", "revoke_key"): "keys",
    ("accounts", "credits"): "credits",
    ("accounts", "password_change"): "password",
    ("accounts", "appearance"): "appearance",
    ("accounts", "privacy"): "privacy",
    ("teams", None): "teams",
    ("webhooks", None): "webhooks",
}


def nav(request: HttpRequest) -> dict[str, Any]:
    """Where the page sits in the navigation, from the URL it was resolved from.

    `nav_section` is the top bar's current link ("studio", "review", "boards", "teams",
    "settings", or "login"), `settings_page` the settings side bar's ("keys",
    "credits", "teams", "webhooks", "password", "appearance"); either is "" when none applies.
    Templates only compare with these values.
    """
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": "", "settings_page": ""}
    key = (match.namespace, match.url_name)
    return {"nav_section": _entry(_NAV_SECTIONS, *key), "settings_page": _entry(_SETTINGS_PAGES, *key)}


def _entry(table: _NavTable, namespace: str, url_name: str) -> str:
    if (namespace, url_name) in table:
        return table[(namespace, url_name)]
    return table.get((namespace, None), "")


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def locale(request: HttpRequest) -> dict[str, Any]:
    """`request_locale`: the visitor's first language (Accept-Language), else LANGUAGE_CODE.

    The pages are in English, so `<html lang>` stays "en"; date fields carry this as their
    own `lang`, so the browser shows dates the visitor's way (31/12/2026, 31.12.2026, …).
    """
    for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if tag != "*" and _LANGUAGE_TAG.match(tag):
            return {"request_locale": tag}
    return {"request_locale": settings.LANGUAGE_CODE}
