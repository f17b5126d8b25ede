"""Worker liveness, per queue, for `/healthz`: "is anyone consuming `render`?".

Every worker process starts a thread when it is ready that stamps, every
`STUDIO_WORKER_BEAT_SECONDS`, the time on one cache key per queue it consumes (the cache
is Redis on many machines, `studio.sqlite_cache` embedded, so every web process sees it). A
queue whose stamp is older than `STUDIO_WORKER_STALE_SECONDS` has no live worker. With
one process per render slot (the solo pool), a process that dies stops beating, and one
that the supervisor restarts beats again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

log = logging.getLogger(__name__)

QUEUES = ("render", "webhooks", "default")


def _key(queue: str) -> str:
    return f"studio:worker-beat:{queue}"


def beat(queues: Iterable[str]) -> None:
    """Say, now, that a live worker consumes `queues`."""
    now = time.time()
    ttl = max(60, int(settings.STUDIO_WORKER_STALE_SECONDS * 4))
    cache.set_many({_key(q): now for q in queues}, timeout=ttl)


def last_beats(queues: Iterable[str] = QUEUES) -> dict[str, float | None]:
    """Seconds since each queue's last beat (None: never, or long ago)."""
    now = time.time()
    stamps = cache.get_many([_key(q) for q in queues])
    return {q: (now - stamps[_key(q)]) if _key(q) in stamps else None for q in queues}


def describe(age: float | None) -> str:
    """The state `/healthz` reports for a queue whose last beat is `age` seconds old: "ok" or what is wrong."""
    if age is None:
        return "down: no worker has been seen"
    if age > settings.STUDIO_WORKER_STALE_SECONDS:
        return f"down: no worker seen for {age:.0f} s"
    return "ok"


def alive(queue: str) -> bool:
    """Has a live worker consuming `queue` been seen lately? (Eager mode renders in-process: always.)"""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True
    try:
        age = last_beats([queue])[queue]
    except Exception as exc:  # the cache is down: /healthz says so; a page's hint must not fail it
        log.warning("could not read the %s workers' beats: %s", queue, exc)
        return True
    return describe(age) == "ok"


def start(queues: Iterable[str]) -> threading.Thread:
    """Beat for `queues` from a daemon thread until the process ends."""
    names = sorted(set(queues))

    def run() -> None:
        while True:
            try:
                beat(names)
            except Exception as exc:  # a busy or unreachable cache: try again next beat
                log.warning("worker beat for %s failed: %s", ",".join(names), exc)
            finally:
                close_old_connections()
            time.sleep(settings.STUDIO_WORKER_BEAT_SECONDS)

    thread = threading.Thread(target=run, name="worker-beat", daemon=True)
    thread.start()
    return thread
