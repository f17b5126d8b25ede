"""The one place that puts work on the broker: renders, webhook deliveries, ZIP exports.

Every message is sent once the current transaction commits (`transaction.on_commit`),
so a worker never sees a row that is not there yet, and a rolled-back change sends
nothing. The committed row is the outbox: if a message is lost, the sweeper sends it
again. Tasks are looked up by their registered names, which never change, so queued
messages resolve across deploys and this module needs nothing above it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from studio.celery import app

RENDER = "generations.tasks.render"
DELIVER_WEBHOOK = "generations.tasks.deliver_webhook"
BUILD_EXPORT = "generations.tasks.build_export"


def _send(name: str, *args: object, countdown: float = 0) -> None:
    app.tasks[name].apply_async(args, countdown=countdown or None)


def render(generation_ids: Iterable[int], *, countdown: float = 0) -> None:
    """Render these generations once the transaction commits (after `countdown` seconds)."""
    ids = list(generation_ids)

    def send_all() -> None:
        for pk in ids:
            _send(RENDER, pk, countdown=countdown)

    transaction.on_commit(send_all)


def deliver_webhook(delivery_id: int, *, countdown: float = 0) -> None:
    """Make a webhook delivery's next attempt once the transaction commits.

    `robust`: a broker hiccup must not break the transaction's caller (a finishing
    render); the sweeper queues the delivery again when it is overdue.
    """
    transaction.on_commit(lambda: _send(DELIVER_WEBHOOK, delivery_id, countdown=countdown), robust=True)


def build_export(export_id: int) -> None:
    """Build a ZIP export once the transaction commits."""
    transaction.on_commit(lambda: _send(BUILD_EXPORT, export_id))
