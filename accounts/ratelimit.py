"""Per-account requests-per-minute limits, counted in Django's cache.

The counters live in the cache so that every web process sees the same count: the
database cache by default (one table in the main database), Redis when `REDIS_URL` or
`CACHE_URL` is set. Windows are fixed and aligned to the minute (`floor(now / 60)`), so
`X-RateLimit-Reset` is simply the Unix time at which the current minute ends.

Counting must be atomic across processes. Redis' INCR is; Django's database cache
implements `incr` as read-then-write, so there the read and the write run in one
transaction that holds a lock: on SQLite the transaction's `BEGIN IMMEDIATE` (Studio's
SQLite settings) takes the write lock up front; on other databases the counter's row is
locked with SELECT … FOR UPDATE. Either way two processes cannot both read 5 and write 6.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import BaseDatabaseCache
from django.db import connections, router, transaction

from accounts.models import User

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


def increment(key: str, ttl: int) -> int:
    """Atomically count one more hit on `key` in the default cache; the new count."""
    cache = caches["default"]
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
