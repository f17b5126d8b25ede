"""The Celery app. Queues: `render` (engines), `webhooks` (deliveries), `default` (sweeper)."""

from __future__ import annotations

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# `filesystem://` (the embedded default) uses Studio's atomic version of kombu's transport.
TRANSPORT_ALIASES["filesystem"] = "studio.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(settings.STUDIO_SWEEP_INTERVAL_SECONDS, sender.signature("generations.tasks.sweep"))
    sender.add_periodic_task(
        settings.STUDIO_SWEEP_INTERVAL_SECONDS, sender.signature("generations.tasks.sweep_webhooks")
    )
