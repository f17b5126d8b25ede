"""Per-account requests-per-minute limits, counted in Django's cache.

The counters live in the cache so that every web process sees the same count. Windows
are fixed and aligned to the minute (`floor(now / 60)`), so `X-RateLimit-Reset` is simply
the Unix time at which the current minute ends. Counting must be atomic across processes,
and it must not make a read-only call wait on the main database's write lock (a call is
counted before it does anything else, so a locked main database used to hold even
`GET /v1/account/credits` for the whole busy timeout). Where the counters live:

- **Redis** (`REDIS_URL` / `CACHE_URL`): INCR and EXPIRE NX in one pipelined round trip,
  atomic on the server (through Django's own client pool; `cache.incr` would take two).
- **SQLite, the embedded default**: `studio.sqlite_cache.SQLiteCache`, a file of its own
  next to the main database (`var/cache.sqlite3`), WAL, autocommit, short busy timeout.
  A hit is one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement (`count`), atomic by
  itself, so no `BEGIN IMMEDIATE` and nothing in the main database: a lock held on the
  main database no longer touches the counters, and counting no longer adds a write to
  the main database per call. The file is shared by every process on the machine, which
  is all an embedded SQLite studio runs on. (Chosen over a single UPSERT in the main
  database, which would still queue behind its write lock, and over per-process memory,
  which would not hold across `make run`'s two gunicorn workers.)
- **The database cache** (with PostgreSQL and no Redis, where several hosts may share one
  database): Django implements `incr` as read-then-write, so the read and the write run in
  one transaction with the counter's row locked by SELECT … FOR UPDATE (only that row,
  and PostgreSQL's `lock_timeout` bounds the wait). On SQLite the transaction's
  `BEGIN IMMEDIATE` takes the write lock up front.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction

from accounts.models import User
from studio.sqlite_cache import SQLiteCache

WINDOW_SECONDS = 60


def now() -> float:
    """The clock windows are counted against (tests move it)."""
    return time.time()


@dataclass(frozen=True)
class Window:
    """Where an account stands in the current minute, counting the request just made."""

    limit: int
    count: int
    reset_at: int  # Unix time (seconds) when this window ends and the count starts again
    scope: str = "requests"  # "requests", or "polling" for status polls (their own allowance)

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window resets (at least 1)."""
        return max(1, self.reset_at - int(now()))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Scope": self.scope,
        }


class RateLimitExceeded(Exception):
    """Over the tier's requests per minute. The API answers 429 `rate_limited`."""

    def __init__(self, window: Window, tier: str) -> None:
        self.window = window
        self.retry_after = window.retry_after
        what = "status polls" if window.scope == POLLING else "requests"
        super().__init__(
            f"Too many {what}: the {tier} tier allows {window.limit} {what} per minute. "
            f"Retry in {self.retry_after} seconds."
        )


def _increment_atomically(cache: BaseCache, key: str, ttl: int) -> int:
    """Add one to the counter `key` (created at 0 with `ttl`); the new value."""
    try:
        return cache.incr(key)
    except ValueError:  # no counter yet in this window (or it just expired)
        cache.add(key, 0, ttl)
        return cache.incr(key)


def _increment_in_database_cache(cache: BaseDatabaseCache, key: str, ttl: int) -> int:
    """Read and write the counter in one locked transaction (see the module docstring)."""
    alias = router.db_for_write(cache.cache_model_class)
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor != "sqlite" and connection.features.has_select_for_update:
            cache.add(key, 0, ttl)
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(cache.cache_model_class._meta.db_table)  # the cache's table
                cursor.execute(
                    f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                    [cache.make_and_validate_key(key)],
                )
        return _increment_atomically(cache, key, ttl)


def _increment_in_redis(cache: RedisCache, key: str, ttl: int) -> int:
    """One INCR, and an EXPIRE after the INCR that made the counter (Django's `incr` takes two
    round trips, EXISTS then INCRBY; a pipeline costs a client object per call, more than the trip).

    Each minute has its own key, so a counter whose EXPIRE never came (its process died in
    between) only lingers: it never counts against a later minute. Django's Redis cache
    stores integers as plain integers, so the counter reads back through the cache API too.
    """
    name = cache.make_and_validate_key(key)
    client = cache._cache.get_client(name, write=True)  # Django's client for the key (its pool)
    count = int(client.incr(name))
    if count == 1:
        client.expire(name, ttl)
    return count


def increment(key: str, ttl: int) -> int:
    """Atomically count one more hit on `key` in the default cache; the new count."""
    cache = caches["default"]
    if isinstance(cache, SQLiteCache):
        return cache.count(key, ttl)
    if isinstance(cache, RedisCache):
        return _increment_in_redis(cache, key, ttl)
    if isinstance(cache, BaseDatabaseCache):
        return _increment_in_database_cache(cache, key, ttl)
    return _increment_atomically(cache, key, ttl)


REQUESTS = "requests"
# Status polls (GET of one image or batch) have their own allowance: the product document's
# own loops poll every 2 seconds until an image is done, which on the free tier's 10 per
# minute would end in a 429 their code does not expect, once a render takes 20 seconds.
POLLING = "polling"
POLLING_PER_REQUEST = 10  # a tier's polls per minute: this many times its requests per minute
POLLING_MINIMUM = 120  # ... and never fewer than one poll every half second


def limit_for(user: User, scope: str = REQUESTS) -> int:
    rpm = user.limits.requests_per_minute
    return max(POLLING_MINIMUM, POLLING_PER_REQUEST * rpm) if scope == POLLING else rpm


def hit(user: User, scope: str = REQUESTS) -> Window:
    """Count one request for `user` in the current minute; the window after counting it."""
    start = int(now()) // WINDOW_SECONDS * WINDOW_SECONDS
    name = "rpm" if scope == REQUESTS else scope
    count = increment(f"studio:{name}:{user.pk}:{start}", ttl=2 * WINDOW_SECONDS)
    return Window(limit=limit_for(user, scope), count=count, reset_at=start + WINDOW_SECONDS, scope=scope)


def check(user: User, scope: str = REQUESTS) -> Window:
    """Count a request and raise `RateLimitExceeded` once the minute's allowance is spent."""
    window = hit(user, scope)
    if not window.allowed:
        raise RateLimitExceeded(window, user.tier)
    return window
