"""When an HTMX request meets the login redirect (a session that ended), move the whole page.

Without this, htmx follows the 302 and swaps the login form into whatever fragment asked,
such as a polling gallery tile. `HX-Redirect` makes the browser go to the login page
instead, and come back to the page it was on once logged in.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code != 302:
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        # Back to the page the fragment belongs to, not to the fragment's own URL.
        page = urlsplit(request.headers.get("HX-Current-URL", "") or "/")
        back = page.path + (f"?{page.query}" if page.query else "")
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = redirect_to_login(back, login)["Location"]
        return redirect
