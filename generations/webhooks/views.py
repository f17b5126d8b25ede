"""The webhooks settings page: the signing secret (reveal, copy, rotate) and the deliveries.

One view serves the page or, for HTMX, the fragment it swaps (django-htmx's
`request.htmx`). Without JavaScript everything still works: filters are links, the
attempts of a delivery open with <details>, Resend is a plain form, and rotating goes
through a confirmation page instead of a dialog. A user only ever sees their own
deliveries: anyone else's is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.typing import AuthedHttpRequest
from generations.models import WebhookDelivery
from generations.webhooks import delivery as webhook_delivery
from generations.webhooks import events as webhooks
from generations.webhooks import signing as webhook_signing


def _status_filter(request: AuthedHttpRequest) -> str:
    status = request.GET.get("status", "")
    return status if status in webhooks.STATUS_FILTERS else ""


def _before(request: AuthedHttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _secret_context(request: AuthedHttpRequest, *, notice: str = "") -> dict:
    record = webhook_signing.secret_record(request.user)
    try:
        secret = webhook_signing.decrypt(record.encrypted)
        unreadable = False
    except webhook_signing.SecretUnreadable:
        secret, unreadable = "", True
    return {
        "secret": secret,
        "secret_unreadable": unreadable,
        "secret_record": record,
        "overlap_active": record.previous_is_active(),
        "secret_notice": notice,
    }


def _private(response: HttpResponse) -> HttpResponse:
    """The page shows a secret: never cache it, and keep the HTMX and full versions apart."""
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def page(request: AuthedHttpRequest) -> HttpResponse:
    """The settings page; for HTMX, only the deliveries list (a filter) or its next rows (Load more)."""
    status = _status_filter(request)
    delivery_page = webhooks.deliveries_page(request.user, status=status, before=_before(request))
    webhooks.for_display(delivery_page.deliveries)
    context = {
        "page": delivery_page,
        "status": status,
        "is_later_page": _before(request) is not None,
        "filters": [
            ("", "All", delivery_page.counts.get("all", 0)),
            *((value, label, delivery_page.counts.get(value, 0)) for value, label in WebhookDelivery.Status.choices),
        ],
    }
    if request.htmx and request.htmx.target == "deliveries-more":
        return _private(render(request, "generations/webhooks/partials/delivery_rows.html", context))
    if request.htmx and request.htmx.target == "deliveries":
        return _private(render(request, "generations/webhooks/partials/deliveries.html", context))
    context.update(_secret_context(request))
    return _private(render(request, "generations/webhooks/page.html", context))


@login_required
@require_GET
def delivery(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """One delivery's row (HTMX polls it while an attempt is due)."""
    found = webhooks.for_display([webhooks.delivery_for_user(request.user, public_id)])[0]
    context = {"d": found, "open": request.GET.get("open") == "1"}
    return _private(render(request, "generations/webhooks/partials/delivery.html", context))


@login_required
@require_POST
def resend(request: AuthedHttpRequest, public_id: str) -> HttpResponse:
    """Send the event again: the same body and `webhook-id`, with a fresh retry schedule."""
    found = webhooks.delivery_for_user(request.user, public_id)
    queued = webhook_delivery.resend(found)
    found.refresh_from_db()
    webhooks.for_display([found])
    notice = (
        "Queued to send again with the same webhook-id."
        if queued
        else "An attempt is being made right now; resend once it has finished."
    )
    if request.htmx:
        context = {"d": found, "open": True, "notice": notice}
        return _private(render(request, "generations/webhooks/partials/delivery.html", context))
    if not queued:
        messages.info(request, notice)
    else:
        messages.success(request, f"{found.event} {found.public_id} is queued to send again.")
    return redirect(reverse("webhooks:page") + f"#delivery-{found.public_id}")


@login_required
@require_http_methods(["GET", "POST"])
def rotate_secret(request: AuthedHttpRequest) -> HttpResponse:
    """GET: the confirmation page (the dialog's no-JavaScript twin). POST: make a new secret."""
    if request.method == "GET":
        return _private(render(request, "generations/webhooks/rotate.html", _secret_context(request)))
    webhook_signing.rotate_secret(request.user)
    notice = "New secret created. The previous one keeps signing beside it for 24 hours."
    if request.htmx:
        return _private(
            render(request, "generations/webhooks/partials/secret_panel.html", _secret_context(request, notice=notice))
        )
    messages.success(request, notice)
    return redirect("webhooks:page")
