"""`/`: the studio for a signed-in user; for anyone else, what Studio does, with real output.

The examples are images the typeset engine rendered (`manage.py landingimages` writes
them and `examples.json`, which says the prompt and settings of each), so the page shows
exactly what this studio makes, and its first request needs no render.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static

from accounts.tiers import PRICE_PER_IMAGE, SIGNUP_CREDITS
from accounts.typing import is_authed
from generations.views.studio import studio

EXAMPLES_DIR = Path(settings.BASE_DIR) / "static" / "img" / "landing"


@cache
def examples() -> list[dict[str, Any]]:
    """The shipped examples, with their static URLs; none if the manifest is missing."""
    manifest = EXAMPLES_DIR / "examples.json"
    if not manifest.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(manifest.read_text())
    return [{**row, "url": static(f"img/landing/{row['file']}")} for row in rows]


def home(request: HttpRequest) -> HttpResponse:
    """The studio, or for a signed-out visitor the landing page. A signed-out request that
    was meant for the studio (an HTMX fragment of a page whose session ended, a bookmarked
    filter) goes to log in instead, and back to it after."""
    if is_authed(request):
        return studio(request)
    if getattr(request, "htmx", False) or request.GET:
        return redirect_to_login(request.get_full_path())
    context = {
        "examples": examples(),
        "api_base": (settings.STUDIO_PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")) + "/v1",
        "signup_credits": SIGNUP_CREDITS,
        "price": PRICE_PER_IMAGE,
        "free_images": SIGNUP_CREDITS // PRICE_PER_IMAGE,
    }
    return render(request, "landing.html", context)
