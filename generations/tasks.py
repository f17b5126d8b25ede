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
