"""Delivering a webhook: claim an attempt, sign, POST to a vetted address, record, schedule.

Each attempt is claimed with a conditional update on the delivery's attempt count, so two
workers holding the same task message (a redelivery, a sweep, a resend) never send the
same attempt twice. The body is the stored one, byte for byte; only the timestamp and
the signatures are made fresh, so receivers can reject old replays by `webhook-timestamp`
and deduplicate by `webhook-id`, which never changes.

The HTTP request goes to the IP address that `webhook_guard` vetted, with the original
`Host` header and, for https, the original name as SNI and for certificate checks: a DNS
answer that changes after the check is never connected to. Redirects are not followed,
proxies from the environment are ignored (they would bypass the vetting), the response is
read up to 64 KiB and its first 1 KiB kept.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import certifi
import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from generations.models import WebhookAttempt, WebhookDelivery
from generations.webhooks import guard as webhook_guard
from generations.webhooks import signing as webhook_signing
from generations.worker import queue as worker_queue

log = logging.getLogger(__name__)

USER_AGENT = "Studio-Webhooks/1.0"
MAX_READ_BYTES = 64 * 1024
EXCERPT_BYTES = 1024
# A pending delivery whose task seems lost (due this long ago, not queued since) is queued again.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500

Status = WebhookDelivery.Status


@dataclass(frozen=True)
class Outcome:
    """What one attempt got. `final`: refused before sending, never retried."""

    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0
    final: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_schedule() -> list[int]:
    """Seconds before each attempt; its length is the number of attempts."""
    return list(settings.STUDIO_WEBHOOK_RETRY_SCHEDULE) or [0]


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """Certificate checks against the public CA bundle (tests substitute their own CA).

    Made once per process: loading the bundle took 16 ms, half of a loopback delivery.
    """
    return ssl.create_default_context(cafile=certifi.where())


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"Timed out after {settings.STUDIO_WEBHOOK_TIMEOUT_SECONDS:g} s ({text})."
    if isinstance(exc, httpx.ConnectError):
        return f"Could not connect: {text}."
    return f"{type(exc).__name__}: {text}."


def _read_bounded(response: httpx.Response, deadline: float) -> bytes:
    """At most MAX_READ_BYTES of the body, and no reading past the overall deadline."""
    data = bytearray()
    for chunk in response.iter_raw(chunk_size=16 * 1024):
        data += chunk
        if len(data) >= MAX_READ_BYTES or time.monotonic() > deadline:
            break
    return bytes(data[:MAX_READ_BYTES])


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url` through a vetted address. Never raises for network trouble."""
    timeout = float(settings.STUDIO_WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        addresses = webhook_guard.resolve_public(url, timeout=timeout)
    except webhook_guard.AddressRefused as exc:
        return Outcome(error=str(exc), duration_ms=_elapsed_ms(started), final=True)
    except webhook_guard.ResolutionFailed as exc:
        return Outcome(error=str(exc), duration_ms=_elapsed_ms(started))

    target = httpx.URL(url)
    sent_headers = {
        **headers,
        "Host": target.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
    }
    deadline = started + timeout
    connect_errors: list[str] = []
    with httpx.Client(timeout=timeout, follow_redirects=False, verify=ssl_context(), trust_env=False) as client:
        for address in addresses:
            request = client.build_request(
                "POST",
                target.copy_with(host=str(address)),
                content=body,
                headers=sent_headers,
                extensions={"sni_hostname": target.raw_host.decode("ascii")},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                connect_errors.append(f"{address}: {exc or 'connection failed'}")
                continue  # the next vetted address, if any
            except httpx.HTTPError as exc:
                return Outcome(error=_describe(exc), duration_ms=_elapsed_ms(started))
            try:
                raw = _read_bounded(response, deadline)
            except httpx.HTTPError as exc:
                return Outcome(
                    status_code=response.status_code,
                    error=f"Reading the response failed: {_describe(exc)}",
                    duration_ms=_elapsed_ms(started),
                )
            finally:
                response.close()
            code = response.status_code
            error = ""
            if 300 <= code < 400:
                error = f"Redirects are not followed (Location: {response.headers.get('location', '?')[:300]})."
            elif not 200 <= code < 300:
                error = f"The receiver answered HTTP {code}; only a 2xx counts as delivered."
            excerpt = raw[:EXCERPT_BYTES].decode("utf-8", errors="replace")
            return Outcome(status_code=code, error=error, excerpt=excerpt, duration_ms=_elapsed_ms(started))
    return Outcome(error="Could not connect: " + "; ".join(connect_errors)[:450], duration_ms=_elapsed_ms(started))


# --- The delivery service ---------------------------------------------------------------------


def queue(delivery_id: int, *, countdown: float = 0) -> None:
    """Put a delivery's task on the `webhooks` queue once the current transaction commits.

    `robust`: a broker hiccup must not break the transaction's caller (a finishing
    render); the sweeper queues the delivery again when it is overdue.
    """
    worker_queue.deliver_webhook(delivery_id, countdown=countdown)


def deliver(delivery_id: int) -> WebhookAttempt | None:
    """Make the delivery's next attempt if it is due and nobody else is making it.

    Returns the recorded attempt, or None when there was nothing to do (succeeded or
    failed already, not due yet, or another worker claimed it).
    """
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_related("user").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Status.PENDING:
        return None
    if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
        return None
    number = delivery.attempt_count + 1
    lease = timedelta(seconds=2 * float(settings.STUDIO_WEBHOOK_TIMEOUT_SECONDS) + 60)
    claimed = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery.pk,
        status=Status.PENDING,
        attempt_count=delivery.attempt_count,
        next_attempt_at__lte=now,
    ).update(attempt_count=number, claimed_until=now + lease, last_attempt_at=now)
    if not claimed:
        return None

    attempted_at = timezone.now()
    try:
        live = webhook_signing.signing_secrets(delivery.user)
    except webhook_signing.SecretUnreadable as exc:
        outcome = Outcome(error=str(exc))
    else:
        body = delivery.body_bytes
        headers = webhook_signing.signature_headers(delivery.public_id, int(time.time()), body, live)
        outcome = post(delivery.url, body, headers)
    return _record(delivery, number, attempted_at, outcome)


def _record(delivery: WebhookDelivery, number: int, attempted_at: datetime, outcome: Outcome) -> WebhookAttempt:
    """Store the attempt and move the delivery on: succeeded, failed, or the next retry."""
    schedule = retry_schedule()
    step = delivery.schedule_step + 1
    now = timezone.now()
    fields: dict = {
        "schedule_step": step,
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500],
    }
    retry_in: int | None = None
    if outcome.succeeded:
        fields.update(status=Status.SUCCEEDED, next_attempt_at=None, finished_at=now)
    elif outcome.final or step >= len(schedule):
        fields.update(status=Status.FAILED, next_attempt_at=None, finished_at=now)
    else:
        retry_in = schedule[step]
        fields.update(next_attempt_at=now + timedelta(seconds=retry_in), enqueued_at=now)
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=attempted_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            succeeded=outcome.succeeded,
            error=outcome.error[:500],
            response_excerpt=outcome.excerpt,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk, attempt_count=number).update(**fields)
        if retry_in is not None:
            queue(delivery.pk, countdown=retry_in)
    log.info(
        "webhook %s attempt %s to %s: %s %s",
        delivery.public_id,
        number,
        delivery.url,
        outcome.status_code or "-",
        outcome.error or "ok",
    )
    return attempt


def resend(delivery: WebhookDelivery) -> bool:
    """Send the same event (same body, same `webhook-id`) again, with a fresh retry schedule.

    False while an attempt is in flight: that attempt's result would overwrite the fresh
    schedule, so the resend could be lost. The caller says so and the user tries again.
    """
    now = timezone.now()
    with transaction.atomic():
        reset = WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=delivery.pk
        ).update(status=Status.PENDING, schedule_step=0, next_attempt_at=now, finished_at=None, enqueued_at=now)
        if reset:
            queue(delivery.pk)
    return bool(reset)


def sweep_due() -> int:
    """Queue again pending deliveries that are overdue and whose task seems lost.

    Long countdowns live in a worker's memory (or a broker's visibility window) and can
    be lost when it restarts; this finds them. A duplicate message is harmless: the
    attempt claim lets only one send. Returns how many were queued.
    """
    now = timezone.now()
    overdue = now - SWEEP_GRACE
    lost = (
        Q(status=Status.PENDING, next_attempt_at__lte=overdue)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=overdue))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )
    queued = 0
    for pk in (
        WebhookDelivery.objects.filter(lost).order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH]
    ):
        with transaction.atomic():
            if WebhookDelivery.objects.filter(lost, pk=pk).update(enqueued_at=now):
                queue(pk)
                queued += 1
    return queued
