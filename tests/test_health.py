"""/healthz tells the truth: database (write lock), broker (accepts a message), workers per queue."""

from __future__ import annotations

import sqlite3

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from generations.worker import beats
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_beats_yet():
    cache.delete_many([beats._key(q) for q in beats.QUEUES])


@pytest.fixture
def beating():
    beats.beat(["render", "webhooks", "default"])


def test_healthz_is_ok_when_everything_answers(client, beating):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "workers": {"render": "ok", "webhooks": "ok"},
    }


def test_healthz_is_503_when_no_worker_consumes_a_queue(client):
    beats.beat(["webhooks"])
    response = client.get("/healthz")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["workers"] == {"render": "down: no worker has been seen", "webhooks": "ok"}


def test_healthz_is_503_when_the_last_render_beat_is_old(client, settings):
    beats.beat(["render", "webhooks"])
    settings.STUDIO_WORKER_STALE_SECONDS = -1  # every beat is now too old
    body = client.get("/healthz").json()
    assert body["status"] == "error" and body["workers"]["render"].startswith("down: no worker seen for")


@pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("filesystem://"), reason="the embedded broker's folder")
def test_healthz_is_503_when_the_broker_folder_cannot_take_a_message(client, beating, settings, tmp_path):
    not_a_folder = tmp_path / "queue"
    not_a_folder.write_text("a file where the broker folder should be")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_out": str(not_a_folder),
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error: NotADirectoryError")
    assert response.json()["database"] == "ok"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="an SQLite file lock")
def test_healthz_is_503_when_the_database_is_locked_for_writes(client, beating):
    holder = sqlite3.connect(str(connection.settings_dict["NAME"]))
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.get("/healthz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError: database is locked"
    assert client.get("/healthz").status_code == 200  # and fine again once the lock is gone


@pytest.mark.e2e
def test_healthz_follows_a_real_render_worker_that_dies_and_comes_back(client, start_worker, settings):
    settings.STUDIO_WORKER_STALE_SECONDS = 2.0
    fast = {"STUDIO_WORKER_BEAT_SECONDS": "0.3"}
    first = start_worker(**fast)
    wait_for(lambda: client.get("/healthz").status_code == 200, timeout=60, message=f"healthy; log:\n{first.log()}")

    first.kill()
    wait_for(lambda: client.get("/healthz").status_code == 503, timeout=30, message="503 after the worker died")
    assert client.get("/healthz").json()["workers"]["render"].startswith("down")

    second = start_worker(**fast)
    wait_for(lambda: client.get("/healthz").status_code == 200, timeout=60, message=f"healthy again; {second.log()}")
