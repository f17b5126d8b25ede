"""Celery tasks: thin, idempotent wrappers that take ids and call the pipeline/services."""

from __future__ import annotations

from celery import shared_task

from generations import pipeline, services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render(generation_id: int) -> None:
    pipeline.render(generation_id)


@shared_task(ignore_result=True)
def sweep() -> dict[str, int]:
    return services.sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def build_export(export_id: int) -> None:
    """Write a large selection's ZIP to storage (and clear out exports older than a day)."""
    from generations import zips

    zips.build_export(export_id)
    zips.delete_expired_exports()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> None:
    """Make a webhook delivery's next attempt; does nothing if it is not due or already done."""
    from generations import webhook_delivery

    webhook_delivery.deliver(delivery_id)


@shared_task(ignore_result=True)
def sweep_webhooks() -> int:
    """Queue again overdue webhook deliveries whose task was lost (a worker restart)."""
    from generations import webhook_delivery

    return webhook_delivery.sweep_due()
