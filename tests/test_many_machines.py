"""Many machines, simulated: two web nodes and three render workers on PostgreSQL and Redis.

Runs under `python -m tests.backends` (what `make test` does after the embedded run): two
gunicorn processes, three solo render workers, a notifier with beat, all sharing only the
database, the broker and the storage, as separate machines would. A batch goes in
through one web node; a render worker is SIGKILLed while it renders; the other web node
reports every image completed, each charged once.
"""

from __future__ import annotations

import json

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from accounts import ledger
from accounts import services as account_services
from accounts.models import LedgerEntry
from generations.models import Generation
from tests.conftest import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"),
        reason="the many-machine configuration: `python -m tests.backends`",
    ),
]

SLOW = json.dumps({"seedream-5.0-lite": {"engine": "fake", "options": {"step_delay": 0.4}}})


def test_two_web_nodes_three_workers_one_killed_nothing_lost(make_user, start_web, start_worker):
    user = make_user(tier="pro", credits=1000)
    _, key = account_services.create_api_key(user=user, name="many machines")
    auth = {"Authorization": f"Bearer {key}"}
    renderers = [start_worker(STUDIO_MODELS_JSON=SLOW, WORKER_QUEUES="render") for _ in range(3)]
    notifier = start_worker(WORKER_QUEUES="webhooks,default", WITH_BEAT="1")
    web_a, web_b = start_web(), start_web()

    requests = [{"model": "seedream-5.0-lite", "prompt": f"Node test {i}"} for i in range(9)]
    accepted = httpx.post(f"{web_a}/v1/images/batch", json={"generations": requests}, headers=auth, timeout=30)
    assert accepted.status_code == 200, accepted.text
    batch_id, task_ids = accepted.json()["batch_id"], accepted.json()["task_ids"]

    logs = lambda: "\n".join(w.log()[-2000:] for w in [*renderers, notifier])  # noqa: E731
    wait_for(
        lambda: Generation.objects.filter(public_id__in=task_ids, stage="rendering", progress__gt=0).count() == 3,
        timeout=90,
        message=f"three workers rendering; logs:\n{logs()}",
    )
    renderers[0].kill()

    def finished_on_b() -> dict | None:
        body = httpx.get(f"{web_b}/v1/images/batch/{batch_id}", headers=auth, timeout=30).json()
        return body if body["status"] == "completed" else None

    body = wait_for(finished_on_b, timeout=90, message=f"the batch, seen from the other node; logs:\n{logs()}")
    assert isinstance(body, dict)
    assert body["counts"] == {"completed": 9, "failed": 0, "canceled": 0, "processing": 0}
    assert Generation.objects.filter(public_id__in=task_ids, attempts=2).count() == 1  # the killed worker's image
    charges = LedgerEntry.objects.filter(generation_public_id__in=task_ids, kind="charge")
    assert sorted(row["n"] for row in charges.values("generation_public_id").annotate(n=Count("id"))) == [1] * 9
    assert not LedgerEntry.objects.filter(generation_public_id__in=task_ids, kind="refund").exists()
    assert ledger.balance(user) == 1000 - 9 * 7 == ledger.ledger_total(user)

    image = httpx.get(f"{web_a}/v1/images/{task_ids[0]}", headers=auth, timeout=30).json()
    assert image["status"] == "completed"
    download = httpx.get(image["image_url"], timeout=30)  # from the shared storage, whichever node signed it
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
