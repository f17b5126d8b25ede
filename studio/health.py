"""GET /healthz: can the studio accept and finish work right now? 200 if so, 503 if not.

Each check does the real thing, within a short timeout:

- `database`: takes the write lock and lets it go (SQLite `BEGIN IMMEDIATE`; PostgreSQL a
  query under a statement timeout). A database that answers reads but is locked for
  writes cannot accept a generation, so it is not ok.
- `broker`: the embedded broker's folder accepts a file (written and removed); Redis
  answers PING.
- `workers`: for `render` and `webhooks` separately, a worker beat seen within
  `STUDIO_WORKER_STALE_SECONDS` (see `generations.worker.beats`).

Load balancers and `docker compose` health checks read the status code; people read the
JSON, which says what is wrong.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from generations.worker import beats
from studio.celery import app

TIMEOUT_SECONDS = 2.0
WATCHED_QUEUES = ("render", "webhooks")
T = TypeVar("T")


def database() -> str:
    if connection.vendor == "sqlite":
        probe = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=TIMEOUT_SECONDS)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        finally:
            probe.close()
        return "ok"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET statement_timeout = {int(TIMEOUT_SECONDS * 1000)}")
        cursor.execute("SELECT 1")
    return "ok"


def broker() -> str:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        probe = Path(options["data_folder_out"]) / f".healthz-{uuid.uuid4()}"
        probe.write_bytes(b"{}")
        probe.unlink()
        return "ok"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
        client = getattr(conn.default_channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()
    return "ok"


def workers() -> dict[str, str]:
    return {queue: beats.describe(age) for queue, age in beats.last_beats(WATCHED_QUEUES).items()}


def _probe(check: Callable[[], T]) -> T | str:
    try:
        return check()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}"[:200]


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db, queue, live = _probe(database), _probe(broker), _probe(workers)
    states = [db, queue, *(live.values() if isinstance(live, dict) else [live])]
    healthy = all(state == "ok" for state in states)
    body = {"status": "ok" if healthy else "error", "database": db, "broker": queue, "workers": live}
    response = JsonResponse(body, status=200 if healthy else 503)
    if not healthy:
        response["Retry-After"] = "5"
    return response
