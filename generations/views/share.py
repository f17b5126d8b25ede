"""Share links: made from the image page by anyone who may see the image; opened by anyone.

The shared page shows one image, its prompt and settings and its downloads, and nothing
of the workspace it lives in (no comments, review, boards, credits, or other images).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from accounts.typing import AuthedHttpRequest
from generations import links, selectors, sharing, storage
from generations.models import Generation, Stage
from generations.views.image import engine_label


@login_required
@require_POST
def create(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Make a share link for a completed image the user may see, valid the days asked for."""
    generation = selectors.generation_for_user(request.user, public_id)
    if generation.stage != Stage.COMPLETED:
        context = {"g": generation, "share_error": "Only a finished image can be shared."}
        return render(request, _template(request), context, status=409)
    try:
        days = int(request.POST.get("days", ""))
    except ValueError:
        days = sharing.default_days()
    if days not in sharing.CHOICES_DAYS:
        days = sharing.default_days()
    link = sharing.share_link(generation, base_url=links.request_base_url(request), ttl=days * sharing.DAY)
    response = render(request, _template(request), {"g": generation, "share": link, "share_days": days})
    response["Cache-Control"] = "no-store"
    return response


def _template(request: AuthedHttpRequest) -> str:
    return "generations/partials/share_link.html" if request.htmx else "generations/share_created.html"


@require_safe
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The shared image page: 403 for a tampered link, 410 for an expired one, 404 once the image is gone."""
    try:
        public_id = sharing.read_token(token)
    except sharing.ShareExpired as exc:
        return _refuse(request, 410, "This share link has expired", str(exc))
    except sharing.ShareInvalid as exc:
        return _refuse(request, 403, "This share link is not valid", str(exc))
    generation = Generation.objects.filter(public_id=public_id, stage=Stage.COMPLETED).first()
    if generation is None or not generation.image_png:
        return _refuse(request, 404, "This image is no longer here", "It was deleted by the people who made it.")
    base = links.request_base_url(request)
    context = {
        "g": generation,
        "engine_label": engine_label(generation.engine),
        "image_url": storage.signed_url(generation, "webp", base_url=base)
        or storage.signed_url(generation, "png", base_url=base),
        "png_download": storage.signed_url(generation, "png", base_url=base, download=True),
        "webp_download": storage.signed_url(generation, "webp", base_url=base, download=True),
        "png_name": storage.download_filename(generation, "png"),
        "webp_name": storage.download_filename(generation, "webp"),
    }
    return _private(render(request, "generations/share.html", context))


def _refuse(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"status": status, "title": title, "message": message}
    return _private(render(request, "generations/share_error.html", context, status=status))


def _private(response: HttpResponse) -> HttpResponse:
    # The token is the capability: keep it out of shared caches and out of Referer headers.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
