"""The embedded cache the per-minute counters live in: its own SQLite file, one statement a hit."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import time

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection

from accounts import ratelimit
from studio.sqlite_cache import SQLiteCache


@pytest.fixture
def cache(tmp_path) -> SQLiteCache:
    return SQLiteCache(str(tmp_path / "cache.sqlite3"), {"OPTIONS": {"busy_timeout": 0.2}})


def test_it_is_the_embedded_default_and_not_in_the_main_database(settings):
    default = caches["default"]
    assert isinstance(default, SQLiteCache)
    assert os.path.realpath(default.path) != os.path.realpath(str(connection.settings_dict["NAME"]))


def test_it_behaves_as_a_django_cache(cache):
    assert cache.get("a") is None and cache.get("a", "dflt") == "dflt"
    cache.set("a", {"x": [1, 2]})
    assert cache.get("a") == {"x": [1, 2]} and cache.has_key("a")
    assert not cache.add("a", "other") and cache.get("a") == {"x": [1, 2]}
    assert cache.add("b", 5) and cache.incr("b") == 6 and cache.decr("b", 2) == 4
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert cache.delete("b") and not cache.delete("b")
    cache.set("gone", 1, timeout=0)  # Django: 0 means expire at once
    assert cache.get("gone") is None and cache.add("gone", 2) and cache.get("gone") == 2
    assert cache.touch("a", timeout=None) and not cache.touch("missing")
    cache.set_many({"m1": True, "m2": "two"})
    assert cache.get_many(["m1", "m2", "nope"]) == {"m1": True, "m2": "two"}
    cache.clear()
    assert cache.get("a") is None


def test_count_starts_a_window_at_one_and_restarts_it_once_expired(cache):
    assert [cache.count("w", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert cache.count("short", timeout=0.05) == 1
    time.sleep(0.1)
    assert cache.count("short", timeout=60) == 1  # the expired window started again, with a fresh expiry
    assert cache.count("short", timeout=60) == 2


def test_a_locked_cache_file_is_a_database_error_not_a_hang(cache):
    cache.count("w", timeout=60)
    holder = sqlite3.connect(cache.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError):
            cache.count("w", timeout=60)
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.django_db(transaction=True)
def test_counting_a_request_does_not_wait_for_the_main_databases_write_lock(make_user, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded counters are used with SQLite only")
    user = make_user(tier="free")
    holder = sqlite3.connect(str(connection.settings_dict["NAME"]), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        assert ratelimit.hit(user).count == 1
        assert ratelimit.hit(user).count == 2
        assert time.monotonic() - started < 2  # not the main database's 20 s busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _count_many(path: str, times: int, queue) -> None:
    cache = SQLiteCache(path, {"OPTIONS": {"busy_timeout": 10}})
    queue.put([cache.count("shared", timeout=60) for _ in range(times)])


def test_counting_is_atomic_across_processes(tmp_path):
    path = str(tmp_path / "cache.sqlite3")
    context = multiprocessing.get_context("fork")  # the child only needs studio.sqlite_cache
    queue = context.Queue()
    procs = [context.Process(target=_count_many, args=(path, 50, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    seen = [n for _ in procs for n in queue.get(timeout=60)]
    for proc in procs:
        proc.join(30)
    assert sorted(seen) == list(range(1, 201))  # no lost updates, no count handed out twice
