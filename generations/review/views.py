"""Team review: the "Needs review" queue, review decisions and comment threads.

Every door here parses the request, calls `generations.review.services` (which checks visibility,
404, and the role, 403, on the server) and answers with a page or, for HTMX, the panel
it changed. As in `views`, HTMX answers are 200 even when they carry a form error (htmx
only swaps 2xx); a plain POST with an error gets the image page with an honest 4xx.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import teams
from accounts.permissions import Action
from accounts.typing import AuthedHttpRequest
from generations import selectors, storage
from generations.models import Generation
from generations.review import selectors as review_selectors
from generations.review import services as review
from generations.views.image import back_url, image_context

STRIP_SIZE = 8


def _from(
    queue: QuerySet[Generation], workspace: teams.Workspace, public_id: str, *, inclusive: bool
) -> QuerySet[Generation]:
    """The queue from the image `public_id` on (or just after it); it may have left the queue since."""
    mark = selectors.workspace_generations(workspace).filter(public_id=public_id).only("created_at").first()
    if mark is None:
        return queue
    when, pk = mark.created_at, mark.pk
    same = Q(created_at=when, pk__gte=pk) if inclusive else Q(created_at=when, pk__gt=pk)
    return queue.filter(Q(created_at__gt=when) | same)


@login_required
@require_GET
def queue(request: AuthedHttpRequest) -> HttpResponse:
    """The current workspace's finished images waiting for a decision, one large, oldest first.

    `?after=<public_id>` starts after that image (Skip, and where a decision continues),
    `?at=<public_id>` at it (a thumbnail of the strip); past the end the queue wraps round
    to the oldest, so skipped images come back.
    """
    workspace = teams.current(request)
    pending = review_selectors.review_queue(workspace)
    at, after = request.GET.get("at", ""), request.GET.get("after", "")
    ahead: list[Generation] = []
    if at or after:
        ahead = list(_from(pending, workspace, at or after, inclusive=bool(at))[: STRIP_SIZE + 1])
    if len(ahead) < STRIP_SIZE + 1:
        # Wrap round: the oldest pending ones follow the newest.
        seen = {g.pk for g in ahead}
        ahead += [g for g in pending[: STRIP_SIZE + 1 + len(seen)] if g.pk not in seen][: STRIP_SIZE + 1 - len(ahead)]
    current = ahead[0] if ahead else None
    counts = review_selectors.review_counts(workspace)
    total = sum(counts.values())
    context: dict[str, Any] = {
        "current": current,
        "upcoming": ahead[1:],
        "counts": counts,
        "left": counts["pending"],
        "total": total,
        "reviewed": total - counts["pending"],
        "done_percent": round(100 * (total - counts["pending"]) / total) if total else 0,
        "more": max(0, counts["pending"] - len(ahead)),
        "can_review": workspace.can(Action.REVIEW),
        "review_workspace": workspace,
        "gallery_url": reverse("generations:studio"),
    }
    if current is not None:
        context["image_url"] = storage.signed_url(current, "webp") or storage.signed_url(current, "png")
        context["open_comments"] = selectors.open_comment_counts([current]).get(current.pk, 0)
        context["next_url"] = f"{reverse('review:queue')}?after={current.public_id}"
    return render(request, "generations/review.html", context)


def _fragment(request: AuthedHttpRequest) -> bool:
    """An HTMX request from a panel wants the panel; a boosted form (the queue) wants the page it lands on."""
    return bool(request.htmx) and not request.htmx.boosted


def _image_url(generation: Generation) -> str:
    return reverse("generations:image", args=[generation.public_id])


@login_required
@require_POST
def set_status(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Approve, reject or return an image to pending (`status`); HTMX gets the review panel back."""
    generation = selectors.generation_for_user(request.user, public_id)
    error = ""
    try:
        generation = review.set_review(user=request.user, generation=generation, status=request.POST.get("status", ""))
    except review.ReviewError as exc:
        error = str(exc)
    if _fragment(request):
        context = image_context(request, generation, review_error=error)
        return render(request, "generations/partials/review_panel.html", context)
    if error:
        return render(
            request, "generations/image.html", image_context(request, generation, review_error=error), status=400
        )
    return redirect(back_url(request, _image_url(generation)))


@login_required
@require_POST
def comment(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Add a comment (`body`) to an image's thread; HTMX gets the thread back."""
    generation = selectors.generation_for_user(request.user, public_id)
    body = request.POST.get("body", "")
    try:
        review.add_comment(user=request.user, generation=generation, body=body)
    except review.ReviewError as exc:
        context = image_context(request, generation, comment_error=str(exc), comment_body=body)
        if _fragment(request):
            return render(request, "generations/partials/comment_thread.html", context)
        return render(request, "generations/image.html", context, status=422)
    if _fragment(request):
        return render(request, "generations/partials/comment_thread.html", image_context(request, generation))
    return redirect(back_url(request, _image_url(generation) + "#comments"))


@login_required
@require_POST
def resolve(request: AuthedHttpRequest, comment_id: int) -> HttpResponse:
    """Resolve a comment (`resolved=1`) or open it again (`resolved=0`); HTMX gets the thread back."""
    found = review.comment_for_user(request.user, comment_id)
    review.set_resolved(user=request.user, comment=found, resolved=request.POST.get("resolved", "1") == "1")
    generation = found.generation
    if _fragment(request):
        return render(request, "generations/partials/comment_thread.html", image_context(request, generation))
    return redirect(back_url(request, _image_url(generation) + "#comments"))
