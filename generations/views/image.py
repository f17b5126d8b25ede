"""The image page: one generation large, every parameter, and what can be done with it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import MESSAGES, Action, Forbidden, may_delete
from accounts.typing import AuthedHttpRequest
from generations import provenance, selectors, services, storage
from generations.engines import engine_label, is_offline_preview
from generations.models import Generation, Stage
from generations.review import selectors as review_selectors
from generations.review import services as review


def _humanize(key: str) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _describe(value: Any, depth: int = 0) -> str:
    """A short, readable rendering of one plan value (nested data is summarised)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        if depth > 0:
            return f"{len(value)} field{pluralize(len(value))}"
        return "; ".join(f"{_humanize(k)}: {_describe(v, depth + 1)}" for k, v in list(value.items())[:6])
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | int | float) for v in value):
            shown = ", ".join(_describe(v, depth + 1) for v in value[:8])
            return shown + (f" and {len(value) - 8} more" if len(value) > 8 else "")
        return f"{len(value)} item{pluralize(len(value))}"
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "…"


def plan_summary(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """What deep thinking decided, as (label, text) rows for people to read."""
    if not isinstance(plan, dict):
        return []
    return [(_humanize(k), _describe(v)) for k, v in plan.items() if v not in (None, "", [], {})][:12]


def back_url(request: AuthedHttpRequest, fallback: str) -> str:
    """The `next` address the form carried, if it is on this site; else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def image_context(
    request: AuthedHttpRequest,
    generation: Generation,
    *,
    review_error: str = "",
    comment_error: str = "",
    comment_body: str = "",
) -> dict[str, Any]:
    """Everything the image page shows; its review, comments and boards panels re-render from the same."""
    generation.starred = selectors.is_starred(request.user, generation)
    newer, older = selectors.neighbours(request.user, generation)
    completed = generation.stage == Stage.COMPLETED
    webp = storage.signed_url(generation, "webp") if completed else ""
    png = storage.signed_url(generation, "png") if completed else ""
    workspace = selectors.workspace_of(request.user, generation)
    thread = review_selectors.comments(generation)
    boards_on, boards_other = review_selectors.boards_for_generation(request.user, generation)
    return {
        "g": generation,
        "newer": newer,
        "older": older,
        "engine_label": engine_label(generation.engine),
        "offline_preview": is_offline_preview(generation.engine),
        "can_cancel": not generation.is_finished and services.may_cancel(request.user, generation),
        "image_url": webp or png,
        "png_download": storage.signed_url(generation, "png", download=True) if completed else "",
        "webp_download": storage.signed_url(generation, "webp", download=True) if completed else "",
        "png_name": storage.download_filename(generation, "png"),
        "webp_name": storage.download_filename(generation, "webp"),
        "plan": plan_summary(generation.plan),
        # Read back from the stored PNG, as any validator would (remembered per file).
        "credentials": provenance.read_stored(generation.image_png) if completed and generation.image_png else None,
        "completed": completed,
        "studio_url": reverse("generations:studio"),
        # Team review: the buttons shown follow the role; the services check it again.
        "image_workspace": workspace,
        "can_review": workspace.can(Action.REVIEW),
        "can_comment": workspace.can(Action.COMMENT),
        "review_denied": MESSAGES.get(Action.REVIEW, ""),
        "review_history": review_selectors.review_history(generation),
        "review_error": review_error,
        "comments": thread,
        "open_comments": sum(1 for c in thread if not c.is_resolved),
        "comment_error": comment_error,
        "comment_body": comment_body,
        "comment_max": review.COMMENT_MAX_LENGTH,
        "boards_on": boards_on,
        "boards_other": boards_other,
        "can_edit_boards": workspace.can(Action.EDIT_BOARDS),
        "can_delete": may_delete(request.user, generation),
    }


@login_required
@require_GET
def image(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    generation = selectors.generation_for_user(request.user, public_id)
    return render(request, "generations/image.html", image_context(request, generation))


@login_required
@require_POST
def star(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Set the star (`starred=1`) or clear it (`starred=0`): idempotent, unlike a toggle."""
    generation = selectors.generation_for_user(request.user, public_id)
    want = request.POST.get("starred", "1") == "1"
    services.set_starred(user=request.user, generations=[generation], starred=want)
    generation.starred = want
    if request.htmx:
        return render(request, "generations/partials/star_button.html", {"g": generation})
    return redirect(back_url(request, reverse("generations:image", args=[generation.public_id])))


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """GET: the confirmation page (the dialog's no-JS twin). POST: delete the image and its files."""
    generation = selectors.generation_for_user(request.user, public_id)
    if not may_delete(request.user, generation):
        raise Forbidden(MESSAGES[Action.DELETE])
    if request.method == "GET":
        return render(request, "generations/confirm_delete.html", confirm_context([generation], single=True))
    services.delete(user=request.user, generations=[generation])
    messages.success(request, "Image deleted, files and all.")
    return redirect(back_url(request, reverse("generations:studio")))


@login_required
@require_POST
def cancel(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Cancel a queued or rendering image and refund its creator.

    HTMX from a tile gets the tile back, saying so, with the credits pill out of band; from
    the image page (`page=1`) the page itself; a plain browser a redirect to where it came from.
    """
    generation = selectors.generation_for_user(request.user, public_id)
    try:
        generation = services.cancel(user=request.user, generation=generation)
        note = f"Canceled · {generation.credits_charged} credit{pluralize(generation.credits_charged)} refunded"
    except services.NotCancelable:
        generation.refresh_from_db()
        note = "It had already finished; nothing to cancel."
    # The refund went to whoever generated it: when that is the viewer, the pill shows it.
    request.user.refresh_from_db(fields=["credits"])
    if request.htmx and request.POST.get("page"):
        context = {**image_context(request, generation), "cancel_note": note}
        return render(request, "generations/image.html", context)
    if request.htmx:
        generation.starred = selectors.is_starred(request.user, generation)
        generation.open_comments = selectors.open_comment_counts([generation]).get(generation.pk, 0)
        generation.offline_preview = is_offline_preview(generation.engine)
        context = {"g": generation, "cancel_note": note, "balance": request.user.credits}
        return render(request, "generations/partials/canceled.html", context)
    messages.success(request, note)
    return redirect(back_url(request, reverse("generations:image", args=[generation.public_id])))


def confirm_context(generations: list[Generation], *, single: bool) -> dict[str, Any]:
    return {"generations": generations, "single": single, "count": len(generations)}
