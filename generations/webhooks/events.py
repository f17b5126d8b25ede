"""Webhooks: which events exist, what their bodies say, and where they are recorded.

When a generation finishes and it has a `webhook_url` (its own or its batch's),
`worker.transitions` calls `record_image_event` inside the transaction that finished it,
so an `image.completed` or `image.failed` delivery is recorded with it; when a batch
finishes, `record_batch_event` records a `batch.completed` one for the batch's `webhook_url`. The delivery task
is queued once the transaction commits, so nothing is sent for a change that rolled back
and nothing committed is left without a delivery.

The body is built once, here, and stored: every attempt and resend sends those exact
bytes. It is ASCII-only JSON (non-ASCII escaped), so a receiver that decodes the body as
text and re-encodes it — as the document's `verify_webhook(payload, ...)` does with
`payload.encode()` — gets the very bytes that were signed.

The parts: `webhook_signing` (secrets, signatures), `webhook_guard` (where a webhook
may go), `webhook_delivery` (sending, retries, resend, sweep). The settings pages are
`webhooks.views`, routed by `webhooks.urls` (the `webhooks` URL namespace).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from generations import links, storage
from generations.models import Batch, Generation, WebhookDelivery, WebhookEvent
from generations.outcome import batch_id as outcome_batch_id
from generations.outcome import completed_fields, ended_fields, error_text, pick, timestamp
from generations.webhooks import delivery as webhook_delivery
from generations.webhooks.guard import check_submit_url

__all__ = [
    "check_submit_url",
    "deliveries_page",
    "delivery_for_user",
    "record_batch_event",
    "record_image_event",
]

PAGE_SIZE = 25


def encode(payload: dict[str, Any]) -> str:
    """The one serialisation of a body: compact, ASCII-only, key order as built."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True)


def image_payload(g: Generation) -> dict[str, Any]:
    """The document's webhook payload for one finished generation (plus additive fields)."""
    completed = g.status == "completed"
    base = links.webhook_base_url(g.public_base_url)  # the submitting request's host, unless configured
    payload: dict[str, Any] = {
        "event": WebhookEvent.IMAGE_COMPLETED if completed else WebhookEvent.IMAGE_FAILED,
        "task_id": g.public_id,
    }
    if (batch_id := outcome_batch_id(g)) is not None:
        payload["batch_id"] = batch_id
    if completed:
        fields = completed_fields(g, base)
        payload.update(
            status=g.status,
            **pick(fields, "image_url", "model", "credits_charged", "metadata", "created_at"),
            **pick(fields, "image_url_webp", "width", "height", "seed", "deep_thinking_used", "expires_at"),
        )
    else:
        fields = ended_fields(g)
        payload.update(
            status=g.status,
            image_url=None,
            **pick(fields, "model", "credits_charged"),
            metadata=g.metadata,
            **pick(fields, "created_at", "error", "error_code", "credits_refunded", "seed"),
        )
    payload["finished_at"] = timestamp(g.finished_at or timezone.now())
    return {key: str(value) if isinstance(value, WebhookEvent) else value for key, value in payload.items()}


def batch_payload(batch: Batch) -> dict[str, Any]:
    """`batch.completed`: the batch's results, as `GET /v1/images/batch/{batch_id}` lists them."""
    base = links.webhook_base_url(batch.public_base_url)
    items = list(batch.generations.order_by("batch_index"))
    counts = Counter(g.status for g in items)
    results = []
    for g in items:
        done = g.status == "completed"
        results.append(
            {
                "index": g.batch_index,
                "status": g.status,
                "task_id": g.public_id,
                "image_url": storage.signed_url(g, "png", base_url=base) if done else None,
                "error": None if done else error_text(g),
            }
        )
    return {
        "event": str(WebhookEvent.BATCH_COMPLETED),
        "batch_id": batch.public_id,
        "status": "completed",
        "total_generations": batch.total,
        "counts": {name: counts.get(name, 0) for name in ("completed", "failed", "canceled")},
        "results": results,
        "created_at": timestamp(batch.created_at),
        "finished_at": timestamp(batch.finished_at or timezone.now()),
    }


def _record(
    *, user_id: int, event: str, url: str, body: str, generation: Generation | None, batch: Batch | None, subject: str
) -> WebhookDelivery:
    """Store a delivery (inside the caller's transaction) and queue its first attempt on commit."""
    first_delay = webhook_delivery.retry_schedule()[0]
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        user_id=user_id,
        generation=generation,
        batch=batch,
        subject_id=subject,
        event=event,
        url=url,
        body=body,
        next_attempt_at=now + timedelta(seconds=first_delay),
        enqueued_at=now,
        created_at=now,
    )
    webhook_delivery.queue(delivery.pk, countdown=first_delay)
    return delivery


def record_image_event(generation: Generation) -> WebhookDelivery | None:
    """The image event of a finished generation, if it has a webhook URL."""
    if not generation.webhook_url or not generation.is_finished:
        return None
    payload = image_payload(generation)
    return _record(
        user_id=generation.user_id,
        event=payload["event"],
        url=generation.webhook_url,
        body=encode(payload),
        generation=generation,
        batch=generation.batch if generation.batch_id else None,
        subject=generation.public_id,
    )


def record_batch_event(batch: Batch) -> WebhookDelivery | None:
    """The `batch.completed` event of a finished batch, if it has a webhook URL."""
    if not batch.webhook_url:
        return None
    return _record(
        user_id=batch.user_id,
        event=WebhookEvent.BATCH_COMPLETED,
        url=batch.webhook_url,
        body=encode(batch_payload(batch)),
        generation=None,
        batch=batch,
        subject=batch.public_id,
    )


def delivery_for_user(user: User, public_id: str) -> WebhookDelivery:
    """The user's own delivery, or 404 (also for anyone else's)."""
    return get_object_or_404(WebhookDelivery, user=user, public_id=public_id)


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    next_before: int | None  # the pk to continue from, None on the last page
    counts: dict[str, int]


STATUS_FILTERS = tuple(WebhookDelivery.Status.values)


def deliveries_page(user: User, *, status: str = "", before: int | None = None) -> DeliveryPage:
    """The user's deliveries newest first (optionally one status), PAGE_SIZE at a time, attempts attached."""
    mine: QuerySet[WebhookDelivery] = WebhookDelivery.objects.filter(user=user)
    counts = dict(Counter(mine.values_list("status", flat=True)))
    counts["all"] = sum(counts.values())
    rows = mine.filter(status=status) if status in STATUS_FILTERS else mine
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows.order_by("-pk").prefetch_related("attempts")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return DeliveryPage(deliveries=page, next_before=page[-1].pk if more else None, counts=counts)


def for_display(deliveries: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Attach what the page shows: the body pretty-printed, a status label, whether to poll.

    A row polls while an attempt is under way or due within seconds, so a resend or a
    retry shows its result without a reload, and stops polling once there is nothing near.
    """
    now = timezone.now()
    soon = now + timedelta(seconds=15)
    for d in deliveries:
        try:
            d.pretty_body = json.dumps(json.loads(d.body), indent=2, ensure_ascii=False)
        except ValueError:
            d.pretty_body = d.body
        sending = bool(d.claimed_until and d.claimed_until > now)
        d.poll = d.status == WebhookDelivery.Status.PENDING and (
            sending or (d.next_attempt_at is not None and d.next_attempt_at <= soon)
        )
        if d.status != WebhookDelivery.Status.PENDING:
            d.label = d.get_status_display()
        elif sending or (d.poll and d.attempt_count == 0):
            d.label = "Sending"
        else:
            d.label = "Retrying" if d.attempt_count else "Pending"
    return deliveries
