"""The view behind signed file links: 403 for a bad link, 410 for an expired one."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.http import require_safe

from generations import storage
from generations.models import Generation, Stage


def _refuse(status: int, code: str, message: str) -> HttpResponse:
    return JsonResponse({"error": {"code": code, "message": message, "status": status}}, status=status)


@require_safe
def get_file(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    try:
        public_id, kind = storage.read_token(token)
    except storage.LinkExpired as exc:
        return _refuse(410, "link_expired", str(exc))
    except storage.LinkInvalid as exc:
        return _refuse(403, "invalid_link", str(exc))
    generation = Generation.objects.filter(public_id=public_id, stage=Stage.COMPLETED).first()
    name = (
        generation
        and {"png": generation.image_png, "webp": generation.image_webp, "thumbnail": generation.thumbnail}[kind]
    )
    if generation is None or not name or not default_storage.exists(name):
        return _refuse(404, "not_found", "This image no longer exists.")
    response = FileResponse(
        default_storage.open(name, "rb"),
        content_type=storage.KINDS[kind],
        as_attachment=request.GET.get("download") == "1",
        filename=storage.download_filename(generation, kind),
    )
    # The link is the capability; it may be cached privately until it expires.
    response["Cache-Control"] = "private, max-age=3600, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
