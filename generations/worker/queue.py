"""The one place that puts work on the broker: renders, webhook deliveries, ZIP exports.

Every message is sent once the current transaction commits (`transaction.on_commit`),
so a worker never sees a row that is not there yet, and a rolled-back change sends
nothing. The committed row is the outbox: if a message is lost, the sweeper sends it
again. Tasks are looked up by their registered names, which never change, so queued
messages resolve across deploys and this module needs nothing above it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generations.models import Export, Generation, Stage
from studio.celery import app

log = logging.getLogger(__name__)

RENDER = "generations.tasks.render"
DELIVER_WEBHOOK = "generations.tasks.deliver_webhook"
BUILD_EXPORT = "generations.tasks.build_export"


def _send(name: str, *args: object, countdown: float = 0) -> None:
    app.tasks[name].apply_async(args, countdown=countdown or None)


def render(generation_ids: Iterable[int], *, countdown: float = 0) -> None:
    """Render these generations once the transaction commits (after `countdown` seconds).

    A broker that refuses the message does not undo what committed: the caller still gets
    its task ids, and the rows are marked for the sweeper's next pass to send again.
    """
    ids = list(generation_ids)

    def send_all() -> None:
        unsent = list(ids)
        try:
            while unsent:
                _send(RENDER, unsent[0], countdown=countdown)
                unsent.pop(0)
        except Exception:
            log.exception("broker refused %d render message(s); the sweeper sends them again", len(unsent))
            mark_unsent(unsent)

    transaction.on_commit(send_all)


def render_backlog() -> int | None:
    """Messages waiting in the broker's `render` queue; None when the broker does not answer."""
    try:
        with app.connection_for_read() as conn:
            return int(conn.default_channel.queue_declare(queue="render", passive=True).message_count)
    except Exception as exc:
        log.warning("could not count the render queue: %s", exc)
        return None


def mark_unsent(generation_ids: list[int]) -> None:
    """Make queued generations due for the sweeper's next pass (their message never left)."""
    due = timezone.now() - timedelta(seconds=settings.STUDIO_REQUEUE_AFTER_SECONDS + 1)
    try:
        Generation.objects.filter(pk__in=generation_ids, stage=Stage.QUEUED).update(enqueued_at=due)
    except Exception:  # the database too: the sweeper still finds them, REQUEUE_AFTER later
        log.exception("could not mark %d generation(s) for the sweeper", len(generation_ids))


def deliver_webhook(delivery_id: int, *, countdown: float = 0) -> None:
    """Make a webhook delivery's next attempt once the transaction commits.

    `robust`: a broker hiccup must not break the transaction's caller (a finishing
    render); the sweeper queues the delivery again when it is overdue.
    """
    transaction.on_commit(lambda: _send(DELIVER_WEBHOOK, delivery_id, countdown=countdown), robust=True)


def build_export(export_id: int) -> None:
    """Build a ZIP export once the transaction commits.

    A broker that refuses the message ends the export as failed, saying so (its page offers
    to try again); nothing was charged for it, and the request that asked still succeeds.
    """

    def send() -> None:
        try:
            _send(BUILD_EXPORT, export_id)
        except Exception:
            log.exception("broker refused the message for export %s", export_id)
            Export.objects.filter(pk=export_id, state=Export.State.PENDING).update(
                state=Export.State.FAILED,
                error="the task queue was unavailable, so it never started",
                finished_at=timezone.now(),
            )

    transaction.on_commit(send)
