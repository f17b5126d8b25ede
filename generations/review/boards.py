"""Boards and compare: named sets of a workspace's images, their ZIPs, and two images side by side.

Doors only: the rules (who may edit a board, which images may go on it) live in
`generations.review.services`; the reads in `generations.review.selectors`. A service's
`Forbidden` becomes a 403, a board or image the user may not see a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import teams
from accounts.permissions import Action
from accounts.typing import AuthedHttpRequest
from generations import exports, selectors, storage
from generations.models import Board, Generation, ReviewStatus, Stage
from generations.review import selectors as review_selectors
from generations.review import services as review
from generations.views.image import back_url
from generations.views.studio import decorate

REVIEW_FILTERS = [("", "All"), *((s.value, s.label) for s in ReviewStatus if s != ReviewStatus.PENDING),
                  (ReviewStatus.PENDING.value, ReviewStatus.PENDING.label)]  # fmt: skip
COMPARE_MODES = ("side", "slider")


def _plural(n: int, word: str = "image") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _board_url(board: Board) -> str:
    return reverse("boards:detail", args=[board.public_id])


@login_required
@require_GET
def board_list(request: AuthedHttpRequest) -> HttpResponse:
    """The current workspace's boards as cards with a mosaic of their newest images."""
    workspace = teams.current(request)
    context = {
        "boards": review_selectors.boards_with_covers(workspace),
        "can_edit_boards": workspace.can(Action.EDIT_BOARDS),
        "name_max": review.BOARD_NAME_MAX_LENGTH,
    }
    return render(request, "generations/boards.html", context)


@login_required
@require_POST
def create(request: AuthedHttpRequest) -> HttpResponse:
    """A new board in the current workspace, or (with `ids`, from an image page) in those images' workspace."""
    generations = selectors.generations_for_user(request.user, request.POST.getlist("ids")[:1000])
    workspace = selectors.workspace_of(request.user, generations[0]) if generations else teams.current(request)
    try:
        board = review.create_board(workspace=workspace, name=request.POST.get("name", ""))
    except review.ReviewError as exc:
        messages.error(request, str(exc))
        return redirect(back_url(request, reverse("boards:list")))
    if generations:
        review.add_to_board(user=request.user, board=board, generations=generations)
        messages.success(request, f"Made the board “{board.name}” with {_plural(len(generations))}.")
        return redirect(back_url(request, _board_url(board)))
    messages.success(request, f"Made the board “{board.name}”. Select images in the gallery to add them.")
    return redirect(_board_url(board))


def _counts(generations: list[Generation]) -> dict[str, int]:
    counts = {"": len(generations), **dict.fromkeys(ReviewStatus.values, 0)}
    for g in generations:
        counts[g.review_status] += 1
    return counts


def board_context(request: AuthedHttpRequest, board: Board, workspace: teams.Workspace) -> dict[str, Any]:
    """What board.html needs: the (filtered) tiles, the filter chips with counts and what the user may do."""
    wanted = request.GET.get("review", "")
    wanted = wanted if wanted in ReviewStatus.values else ""
    everything = review_selectors.board_generations(board)
    shown = [g for g in everything if not wanted or g.review_status == wanted]
    counts = _counts(everything)
    return {
        "board": board,
        "board_workspace": workspace,
        "board_choices": review_selectors.selection_boards(workspace, exclude=board),
        "generations": decorate(request.user, shown),
        "review": wanted,
        "filters": [{"value": v, "label": label, "count": counts[v]} for v, label in REVIEW_FILTERS],
        "total": counts[""],
        "approved_count": sum(1 for g in everything if g.review_status == ReviewStatus.APPROVED and g.image_png),
        "finished_count": sum(1 for g in everything if g.stage == Stage.COMPLETED and g.image_png),
        "can_edit_boards": workspace.can(Action.EDIT_BOARDS),
        "can_download": workspace.can(Action.DOWNLOAD),
        "name_max": review.BOARD_NAME_MAX_LENGTH,
    }


@login_required
@require_GET
def detail(request: AuthedHttpRequest, board_id: str) -> HttpResponse:
    board, workspace = review_selectors.board_for_user(request.user, board_id)
    return render(request, "generations/board.html", board_context(request, board, workspace))


@login_required
@require_POST
def rename(request: AuthedHttpRequest, board_id: str) -> HttpResponse:
    board, _ = review_selectors.board_for_user(request.user, board_id)
    try:
        review.rename_board(user=request.user, board=board, name=request.POST.get("name", ""))
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Renamed the board to “{board.name}”.")
    return redirect(_board_url(board))


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: AuthedHttpRequest, board_id: str) -> HttpResponse:
    """GET: the board page with its confirmation open (the dialog's no-JS twin). POST: delete the board."""
    board, workspace = review_selectors.board_for_user(request.user, board_id)
    if request.method == "GET":
        workspace.require(Action.EDIT_BOARDS)
        return render(request, "generations/board.html", {**board_context(request, board, workspace), "confirm": True})
    name = board.name
    review.delete_board(user=request.user, board=board)
    messages.success(request, f"Deleted the board “{name}”. Its images are still in the gallery.")
    return redirect("boards:list")


@login_required
@require_POST
def items(request: AuthedHttpRequest, board_id: str) -> HttpResponse:
    """Add (`action=add`) or remove (`action=remove`) the images named by `ids`, then go back to `next`."""
    board, _ = review_selectors.board_for_user(request.user, board_id)
    action = request.POST.get("action")
    if action not in ("add", "remove"):
        return HttpResponse("Unknown action.", status=400)
    generations = selectors.generations_for_user(request.user, request.POST.getlist("ids")[:1000])
    back = back_url(request, _board_url(board))
    if not generations:
        messages.info(request, "Select one or more images first.")
        return redirect(back)
    if action == "add":
        added = review.add_to_board(user=request.user, board=board, generations=generations)
        messages.success(request, add_message(board, added, len(generations)))
    else:
        removed = review.remove_from_board(user=request.user, board=board, generations=generations)
        messages.success(request, f"Removed {_plural(removed)} from “{board.name}”. They are still in the gallery.")
    return redirect(back)


def add_message(board: Board, added: int, asked: int) -> str:
    """ "Added 2 images to “Posters”." plus why some were not added, when some were not."""
    text = f"Added {_plural(added)} to “{board.name}”."
    if added < asked:
        rest = asked - added
        verb = "was" if rest == 1 else "were"
        text += f" {_plural(rest)} {verb} already on it or belong to another workspace."
    return text


@login_required
@require_GET
def download(request: AuthedHttpRequest, board_id: str) -> HttpResponseBase:
    """The board's finished PNGs (`?review=approved`: only the approved ones) as one ZIP."""
    board, workspace = review_selectors.board_for_user(request.user, board_id)
    workspace.require(Action.DOWNLOAD)
    wanted = request.GET.get("review", "")
    wanted = wanted if wanted in ReviewStatus.values else ""
    ready = exports.zippable(review_selectors.board_generations(board, review=wanted or None))
    if not ready:
        which = f"{ReviewStatus(wanted).label.lower()} " if wanted else "finished "
        messages.info(request, f"This board has no {which}images yet, so there is nothing to download.")
        return redirect(_board_url(board))
    if len(ready) > exports.STREAM_LIMIT:
        export = exports.start_export(user=request.user, generations=ready)
        return redirect("generations:export", public_id=export.public_id)
    name = "-".join(filter(None, [slugify(board.name)[:60] or "board", wanted, _plural(len(ready)).replace(" ", "-")]))
    response = StreamingHttpResponse(exports.stream(ready), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    response["Cache-Control"] = "no-store"
    return response


# --- Compare -------------------------------------------------------------------------------------


def _side(g: Generation, letter: str) -> dict[str, Any]:
    url = storage.signed_url(g, "webp") or storage.signed_url(g, "png") if g.stage == Stage.COMPLETED else ""
    return {"g": g, "url": url, "letter": letter}


@login_required
@require_GET
def compare(request: AuthedHttpRequest) -> HttpResponse:
    """Two visible images side by side or under a slider, and how their parameters differ."""
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    if not a or not b:
        raise Http404("Name two images to compare (?a=…&b=…).")
    left = selectors.generation_for_user(request.user, a)
    right = selectors.generation_for_user(request.user, b)
    rows = review_selectors.compare(left, right)
    mode = request.GET.get("mode") if request.GET.get("mode") in COMPARE_MODES else "side"
    sides = [_side(left, "A"), _side(right, "B")]
    context = {
        "left": sides[0],
        "right": sides[1],
        "sides": sides,
        "rows": rows,
        "different": sum(1 for row in rows if not row.same),
        "mode": mode,
        "ratio": f"{left.width / left.height:.4f}",
        "sizes_differ": (left.width, left.height) != (right.width, right.height),
        "both_ready": left.stage == Stage.COMPLETED and right.stage == Stage.COMPLETED,
    }
    return render(request, "generations/compare.html", context)
