"""A batch from the studio's batch strip: cancel what is left of it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST

from accounts import teams
from accounts.typing import AuthedHttpRequest
from generations import selectors, services
from generations.views.studio import batch_strip, decorate


def canceled_note(result: services.BatchCanceled) -> str:
    """The words of the note: "Canceled 7 images · 14 credits refunded"."""
    n, refunded = len(result.canceled), result.credits_refunded
    return f"Canceled {n} image{pluralize(n)} · {refunded} credit{pluralize(refunded)} refunded"


@login_required
@require_POST
def cancel(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Cancel every unfinished image of a batch, refunded (`services.cancel_batch`).

    HTMX gets the batch strip back, the canceled tiles and the credits pill out of band and
    a toast saying what happened; a plain browser a redirect to the studio with that message.
    A team's viewer gets 403 (from the service), anyone outside it 404.
    """
    batch = selectors.batch_for_user(request.user, public_id)
    try:
        result = services.cancel_batch(user=request.user, batch=batch)
        note, canceled = canceled_note(result), result.canceled
    except services.NotCancelable:
        note, canceled = "Every image of that batch had already finished; nothing to cancel.", []
    request.user.refresh_from_db(fields=["credits"])
    if not request.htmx:
        messages.success(request, note)
        return redirect("generations:studio")
    context = {
        "batches": batch_strip(teams.current(request)),
        "canceled": decorate(request.user, canceled),
        "note": note,
        "balance": request.user.credits,
    }
    return render(request, "generations/partials/batch_canceled.html", context)
