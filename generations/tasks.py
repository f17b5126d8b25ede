"""Celery entry points: thin, idempotent wrappers that take ids.

Their names (`generations.tasks.render`, …) are what queued messages carry and what the
routes in settings and `worker.queue` name, so they never change. Nothing here decides
anything: the work is in `worker`, `webhooks.delivery` and `exports`.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from generations import exports
from generations.webhooks import delivery
from generations.worker import beats
from generations.worker import render as worker_render
from generations.worker import sweep as worker_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render(generation_id: int) -> None:
    worker_render.render(generation_id)


@shared_task(ignore_result=True)
def sweep() -> dict[str, int]:
    return worker_sweep.sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def build_export(export_id: int) -> None:
    """Write a large selection's ZIP to storage (and clear out exports older than a day)."""
    exports.build_export(export_id)
    exports.delete_expired_exports()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> None:
    """Make a webhook delivery's next attempt; does nothing if it is not due or already done."""
    delivery.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> int:
    """Queue again overdue webhook deliveries whose task was lost (a worker restart)."""
    return delivery.sweep_due()


@worker_ready.connect
def _beat_while_alive(sender: Any, **_: Any) -> None:
    """Every worker process says which queues it consumes, for `/healthz`."""
    beats.start(sender.app.amqp.queues.consume_from)
