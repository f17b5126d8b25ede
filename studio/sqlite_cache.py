"""A Django cache in its own SQLite file: the embedded home of the rate-limit counters.

Studio's per-minute counters used to live in the database cache, a table in the main
database. Counting there wrote to the main database on every `/v1` call, in a
`BEGIN IMMEDIATE` transaction, so one long writer (or a backup holding the file) made
even `GET /v1/account/credits` queue behind the main database's write lock. This cache
keeps the counters out of the main database altogether:

- one file of its own (`var/cache.sqlite3` by default), in WAL mode, opened with the
  stdlib `sqlite3` module in autocommit mode, with a short busy timeout of its own. It is
  shared by every process on the machine (the gunicorn workers of `make run`, the test
  suite's server processes), which is what a per-minute limit needs.
- every operation is one SQL statement, so none needs a transaction around it, and a
  counter's write lock lasts as long as one `INSERT … ON CONFLICT DO UPDATE … RETURNING`
  (`count`: create-or-increment, with the window's expiry, in one atomic step).
- integers are stored as SQLite integers (so `incr` is arithmetic in SQL); anything else
  is pickled, as Django's other caches do. Expired rows are ignored when read and deleted
  now and then when written.

Errors from the file (locked past the busy timeout, disk full) are raised as
`django.db.OperationalError`, which the API answers as 503 `service_unavailable`.
"""

from __future__ import annotations

import os
import pickle
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db.utils import OperationalError

SCHEMA = "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL) WITHOUT ROWID"
LIVE = "(expires IS NULL OR expires > ?)"  # expires: Unix seconds, NULL for never
PURGE_ONE_WRITE_IN = 200  # how often a write also deletes expired rows


class SQLiteCache(BaseCache):
    """`BACKEND: studio.sqlite_cache.SQLiteCache`, `LOCATION`: the file; `OPTIONS: {"busy_timeout": 2}`."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.path = location
        self.busy_timeout = float(params.get("OPTIONS", {}).get("busy_timeout", 2.0))
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    # Django makes one cache object per thread, so one connection per object is one per thread;
    # a forked child opens its own.
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._connection()
        except sqlite3.OperationalError as exc:
            raise OperationalError(f"cache {self.path}: {exc}") from exc

    @staticmethod
    def _encode(value: Any) -> Any:
        return value if type(value) is int else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def _decode(value: Any) -> Any:
        return value if isinstance(value, int) else pickle.loads(value)

    def _purge_now_and_then(self, conn: sqlite3.Connection, now: float) -> None:
        if random.randrange(PURGE_ONE_WRITE_IN) == 0:
            conn.execute("DELETE FROM cache WHERE expires <= ?", [now])

    def count(self, key: str, timeout: float, version: int | None = None) -> int:
        """Add one to the counter `key`, created at 1 (expiring after `timeout` s) if absent or expired."""
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._db() as conn:
            self._purge_now_and_then(conn, now)
            row = conn.execute(
                "INSERT INTO cache (key, value, expires) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET "
                "value = CASE WHEN cache.expires <= ? THEN 1 ELSE cache.value + 1 END, "
                "expires = CASE WHEN cache.expires <= ? THEN excluded.expires ELSE cache.expires END "
                "RETURNING value",
                [key, now + timeout, now, now],
            ).fetchone()
        return int(row[0])

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._db() as conn:
            self._purge_now_and_then(conn, now)
            cursor = conn.execute(
                "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value, expires = excluded.expires WHERE cache.expires <= ?",
                [key, self._encode(value), self.get_backend_timeout(timeout), now],
            )
        return cursor.rowcount == 1

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        with self._db() as conn:
            self._purge_now_and_then(conn, time.time())
            conn.execute(
                "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
                [key, self._encode(value), self.get_backend_timeout(timeout)],
            )

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._db() as conn:
            row = conn.execute(f"SELECT value FROM cache WHERE key = ? AND {LIVE}", [key, time.time()]).fetchone()
        return default if row is None else self._decode(row[0])

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._db() as conn:
            cursor = conn.execute(
                f"UPDATE cache SET expires = ? WHERE key = ? AND {LIVE}", [self.get_backend_timeout(timeout), key, now]
            )
        return cursor.rowcount == 1

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._db() as conn:
            cursor = conn.execute("DELETE FROM cache WHERE key = ?", [key])
        return cursor.rowcount == 1

    def has_key(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._db() as conn:
            return (
                conn.execute(f"SELECT 1 FROM cache WHERE key = ? AND {LIVE}", [key, time.time()]).fetchone() is not None
            )

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Atomic: one UPDATE … RETURNING (Django's base class reads, then writes)."""
        key = self.make_and_validate_key(key, version=version)
        with self._db() as conn:
            row = conn.execute(
                f"UPDATE cache SET value = value + ? WHERE key = ? AND typeof(value) = 'integer' AND {LIVE} "
                "RETURNING value",
                [delta, key, time.time()],
            ).fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(row[0])

    def clear(self) -> None:
        with self._db() as conn:
            conn.execute("DELETE FROM cache")

    def close(self, **kwargs: Any) -> None:
        """Django calls this after every request; the connection stays open for the next one."""
