"""Per-account requests per minute: headers on every reply, 429 past the limit, across processes."""

import subprocess
import sys
import threading
from collections import defaultdict

import httpx
import pytest
from django.db import connection

from accounts import ratelimit
from generations.models import Generation
from tests.api_support import assert_error, generate
from tests.backends import free_port
from tests.conftest import ROOT, wait_for


def test_every_reply_carries_the_limit_what_is_left_and_when_the_minute_resets(account, monkeypatch):
    monkeypatch.setattr(ratelimit, "now", lambda: 1_800_000_030.5)  # half a minute into a window
    acct = account(tier="starter")
    first, second = acct.http.get("/account/credits"), acct.http.get("/images")
    assert first.headers["X-RateLimit-Limit"] == "30"
    assert first.headers["X-RateLimit-Remaining"] == "29"
    assert second.headers["X-RateLimit-Remaining"] == "28"
    assert first.headers["X-RateLimit-Reset"] == second.headers["X-RateLimit-Reset"] == "1800000060"


def test_the_eleventh_request_in_a_minute_on_the_free_tier_is_429_until_the_minute_ends(account, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "now", lambda: clock[0])
    acct = account(tier="free", credits=100)
    for i in range(10):
        clock[0] += 1
        assert acct.http.get("/account/credits").headers["X-RateLimit-Remaining"] == str(9 - i)
    clock[0] += 1  # 11 s into the minute
    refused = generate(acct)
    message = assert_error(refused, 429, "rate_limited")
    assert "10 requests per minute" in message and "free" in message
    assert refused.headers["Retry-After"] == "49"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == "1800000060"
    assert not Generation.objects.exists()  # a refused request changes nothing

    clock[0] = 1_800_000_060.0  # the next minute
    allowed = acct.http.get("/account/credits")
    assert allowed.status_code == 200 and allowed.headers["X-RateLimit-Remaining"] == "9"


def test_status_polls_have_their_own_allowance_so_the_documents_polling_loop_never_hits_429(account, monkeypatch):
    """The document polls every 2 s until done: 30 polls a minute for a slow render, on a free tier of 10."""
    clock = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "now", lambda: clock[0])
    acct = account(tier="free", credits=100)
    task_id = generate(acct).json()["task_id"]  # request 1 of 10; no worker, so it stays processing
    for _ in range(30):
        clock[0] += 1
        poll = acct.http.get(f"/images/{task_id}")
        assert poll.status_code == 200 and poll.json()["status"] == "processing"
    assert poll.headers["X-RateLimit-Scope"] == "polling"
    assert poll.headers["X-RateLimit-Limit"] == "120"  # 10 x the tier's 10, and at least 120
    assert poll.headers["X-RateLimit-Remaining"] == "90"
    # ... and they left the tier's requests per minute alone.
    credits = acct.http.get("/account/credits")
    assert credits.headers["X-RateLimit-Scope"] == "requests"
    assert credits.headers["X-RateLimit-Remaining"] == "8"


def test_status_polls_are_limited_too_past_their_own_allowance(account, monkeypatch):
    monkeypatch.setattr(ratelimit, "now", lambda: 1_800_000_010.0)
    acct = account(tier="free", credits=100)
    for _ in range(120):
        acct.http.get("/images/img_missing")
    refused = acct.http.get("/images/img_missing")
    message = assert_error(refused, 429, "rate_limited")
    assert "120 status polls per minute" in message
    assert refused.headers["Retry-After"] == "50" and refused.headers["X-RateLimit-Scope"] == "polling"


def test_accounts_are_counted_separately(account):
    a, b = account(tier="free"), account(tier="free")
    for _ in range(10):
        a.http.get("/account/credits")
    assert a.http.get("/account/credits").status_code == 429
    assert b.http.get("/account/credits").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_counting_is_atomic_when_many_threads_hit_at_once(make_user, monkeypatch):
    monkeypatch.setattr(ratelimit, "now", lambda: 1_800_000_000.0)  # one window for the whole test
    user = make_user(tier="enterprise")
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer():
        start.wait()
        try:
            for _ in range(10):
                count = ratelimit.hit(user).count
                with lock:
                    seen.append(count)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # No lost updates: 80 hits, and each count from 1 to 80 handed out exactly once.
    assert sorted(seen) == list(range(1, 81))


@pytest.fixture
def two_servers(worker_env, tmp_path):
    """Two real `manage.py runserver` processes on the test database (and so its cache table)."""
    procs, urls = [], []
    for i in range(2):
        port = free_port()
        log = (tmp_path / f"server-{i}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
            cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        procs.append(proc)
        urls.append(f"http://127.0.0.1:{port}")

    def up(url: str) -> bool:
        try:
            return httpx.get(f"{url}/v1/openapi.json", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        for url in urls:
            wait_for(lambda url=url: up(url), timeout=60, message=f"{url} to answer")
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_per_minute_limit_holds_across_two_server_processes(account, two_servers):
    acct = account(tier="free", credits=100)
    headers = {"Authorization": f"Bearer {acct.key}"}
    sent: list[tuple[int, int, int]] = []  # (server, status, window reset)
    for i in range(30):
        server = i % 2
        response = httpx.get(f"{two_servers[server]}/v1/account/credits", headers=headers, timeout=10)
        sent.append((server, response.status_code, int(response.headers["X-RateLimit-Reset"])))
        if response.status_code == 429:
            assert_error(response, 429, "rate_limited")
            break
    windows = defaultdict(list)
    for server, status, reset in sent:
        windows[reset].append((server, status))
    # If the burst happened to straddle a minute boundary, the count restarted with the new window:
    # in the window that refused, the first 10 requests passed, half on each server, and the 11th was refused.
    refused_window = windows[sent[-1][2]]
    assert [status for _, status in refused_window] == [200] * 10 + [429], sent
    assert {server for server, _ in refused_window[:10]} == {0, 1}


def test_on_redis_a_minutes_counter_is_made_to_expire_once_and_counts_exactly(account):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("the scale-out cache: `python -m tests.backends`")
    key = "studio:test-counter:1"
    name = cache.make_and_validate_key(key)
    client = cache._cache.get_client(name, write=True)
    client.delete(name)
    assert [ratelimit.increment(key, ttl=120) for _ in range(3)] == [1, 2, 3]
    assert 0 < client.ttl(name) <= 120  # set by the first hit, so the window's end never moves
    client.expire(name, 7)
    assert ratelimit.increment(key, ttl=120) == 4 and client.ttl(name) <= 7  # later hits leave it alone
    assert cache.get(key) == 4  # readable through the cache API as well
