"""Many images at once: the selection bar's actions (ZIP, star, delete, add to a board, compare) and ZIP exports.

Every action is a POST naming public ids; the selector keeps only the user's own, so
a forged id of someone else's image is silently dropped, never touched.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.typing import AuthedHttpRequest
from generations import exports, selectors, services, storage
from generations.review import selectors as review_selectors
from generations.review import services as review
from generations.review.boards import add_message
from generations.views.image import back_url, confirm_context

ACTIONS = ("zip", "star", "unstar", "delete", "confirm_delete", "add_to_board", "compare")


def _plural(n: int, word: str = "image") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _back(request: AuthedHttpRequest) -> str:
    return back_url(request, reverse("generations:studio"))


@login_required
@require_POST
def selection(request: AuthedHttpRequest) -> HttpResponseBase:
    """Apply one action to the selected images (`ids`), then go back where the user was."""
    action = request.POST.get("action")
    if action not in ACTIONS:
        return HttpResponse("Unknown action.", status=400)
    ids = request.POST.getlist("ids")[:1000]
    generations = selectors.generations_for_user(request.user, ids)
    if not generations:
        messages.info(request, "Select one or more images first.")
        return redirect(_back(request))

    if action == "compare":
        return _compare(request, ids, generations)
    if action == "add_to_board":
        return _add_to_board(request, generations)
    if action == "zip":
        return _zip(request, generations)
    if action in ("star", "unstar"):
        changed = services.set_starred(user=request.user, generations=generations, starred=action == "star")
        verb = "Starred" if action == "star" else "Unstarred"
        messages.success(request, f"{verb} {_plural(changed)}.")
        return redirect(_back(request))
    if action == "delete":
        context = {**confirm_context(generations, single=False), "next": _back(request)}
        return render(request, "generations/confirm_delete.html", context)
    deleted = services.delete(user=request.user, generations=generations)
    messages.success(request, f"Deleted {_plural(deleted)}, files and all.")
    return redirect(_back(request))


def _compare(request: AuthedHttpRequest, ids: list[str], generations: list) -> HttpResponse:
    if len(generations) != 2:
        messages.info(request, f"Select exactly two images to compare ({len(generations)} selected).")
        return redirect(_back(request))
    left, right = sorted(generations, key=lambda g: ids.index(g.public_id))  # in the order they were picked
    return redirect(f"{reverse('boards:compare')}?{urlencode({'a': left.public_id, 'b': right.public_id})}")


def _add_to_board(request: AuthedHttpRequest, generations: list) -> HttpResponse:
    if not request.POST.get("board"):
        messages.info(request, "Pick a board to add the images to.")
        return redirect(_back(request))
    board, _ = review_selectors.board_for_user(request.user, request.POST["board"])
    added = review.add_to_board(user=request.user, board=board, generations=generations)
    messages.success(request, add_message(board, added, len(generations)))
    return redirect(_back(request))


def _zip(request: AuthedHttpRequest, generations: list) -> HttpResponseBase:
    ready = exports.zippable(generations)
    if not ready:
        messages.info(request, "None of the selected images is finished yet, so there is nothing to download.")
        return redirect(_back(request))
    if len(ready) > exports.STREAM_LIMIT:
        export = exports.start_export(user=request.user, generations=ready)
        return redirect("generations:export", public_id=export.public_id)
    response = StreamingHttpResponse(exports.stream(ready), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{exports.archive_name(len(ready))}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """An export's progress; the status fragment polls itself until the ZIP is ready."""
    job = exports.export_for_user(request.user, public_id)
    template = "generations/partials/export_status.html" if request.htmx else "generations/export.html"
    return render(request, template, {"export": job})


@login_required
@require_GET
def export_download(request: AuthedHttpRequest, public_id: str) -> HttpResponseBase:
    job = exports.export_for_user(request.user, public_id)
    if job.state != job.State.READY or not job.file or not default_storage.exists(job.file):
        raise Http404("This export is not ready, or has expired.")
    if storage.storage_signs_urls():  # S3: the browser fetches the ZIP from the bucket, not through us
        return redirect(storage.presigned_url(job.file, filename=exports.archive_name(job.total), attachment=True))
    return FileResponse(
        default_storage.open(job.file, "rb"),
        as_attachment=True,
        filename=exports.archive_name(job.total),
        content_type="application/zip",
    )
