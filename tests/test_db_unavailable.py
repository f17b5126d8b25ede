"""A database that does not answer in time: 503 with Retry-After, quickly, and nothing charged.

The end-to-end tests hold SQLite's write lock on the test database file (`BEGIN EXCLUSIVE`
from another connection, as a long writer or a backup would) while a real
`manage.py runserver` process, with the web servers' default busy timeout, answers.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import RequestFactory

from accounts import ratelimit
from accounts import services as account_services
from accounts.models import LedgerEntry, User
from generations.api.errors import ERRORS, to_api_error
from generations.models import Generation
from studio.unavailable import DatabaseUnavailableMiddleware
from tests.api_support import MODEL, assert_error
from tests.backends import free_port
from tests.conftest import ROOT, wait_until_serving

DEADLINE = 10  # seconds: an answer, not a 20 s hang (the busy timeout for web servers is 3 s)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="holds SQLite's file lock; PostgreSQL has lock_timeout"
)


# --- The mapping, in the test process --------------------------------------------------------


def test_service_unavailable_is_an_additive_503_code():
    assert ERRORS["service_unavailable"].status == 503
    assert not ERRORS["service_unavailable"].in_document


@pytest.mark.parametrize("message", ["database is locked", "canceling statement due to lock timeout"])
def test_an_operational_error_is_503_service_unavailable_with_retry_after(message):
    error = to_api_error(OperationalError(message))
    assert (error.code, error.status) == ("service_unavailable", 503)
    assert 1 <= int(error.headers["Retry-After"]) <= 5
    assert message not in error.message  # internals stay in the log


def test_a_locked_database_in_an_api_call_answers_the_envelope(account, monkeypatch):
    acct = account()

    def locked(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(ratelimit, "increment", locked)
    response = acct.http.get("/account/credits")
    assert_error(response, 503, "service_unavailable")
    assert 1 <= int(response.headers["Retry-After"]) <= 5


def test_pages_answer_a_plain_503_and_leave_v1_to_the_api():
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    page = RequestFactory().post("/accounts/login")
    response = middleware.process_exception(page, OperationalError("database is locked"))
    assert response is not None and response.status_code == 503
    assert response["Retry-After"] == "3" and response["Content-Type"].startswith("text/html")
    assert middleware.process_exception(RequestFactory().get("/v1/account/credits"), OperationalError("x")) is None
    assert middleware.process_exception(page, RuntimeError("not the database")) is None


# --- Real processes, a real lock ---------------------------------------------------------------


@pytest.fixture
def server(worker_env, tmp_path) -> Iterator[str]:
    """A real `manage.py runserver` on the test database, with the web servers' default busy timeout."""
    env = {name: value for name, value in worker_env.items() if name != "STUDIO_DB_BUSY_TIMEOUT"}
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


class FileLock:
    """`BEGIN EXCLUSIVE` on the database file from a connection of its own; `release()` ends it."""

    def __init__(self, path: str) -> None:
        self.conn: sqlite3.Connection | None = sqlite3.connect(path, timeout=20, isolation_level=None)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


@pytest.fixture
def lock_database() -> Iterator[Any]:
    locks: list[FileLock] = []

    def lock() -> FileLock:
        locks.append(FileLock(str(connection.settings_dict["NAME"])))
        return locks[-1]

    yield lock
    for held in locks:
        held.release()


def _api_user(make_user) -> tuple[User, dict[str, str]]:
    user = make_user(tier="pro", credits=100)
    _, raw = account_services.create_api_key(user=user, name="tests")
    return user, {"Authorization": f"Bearer {raw}"}


def _assert_unavailable(response: httpx.Response) -> None:
    assert_error(response, 503, "service_unavailable")
    assert 1 <= int(response.headers["Retry-After"]) <= 5


def _books(user: User) -> tuple[int, int, int]:
    user.refresh_from_db()
    return user.credits, LedgerEntry.objects.filter(user=user).count(), Generation.objects.filter(user=user).count()


@sqlite_only
@pytest.mark.e2e
def test_with_the_database_locked_the_api_answers_503_at_once_and_charges_nothing(make_user, server, lock_database):
    user, auth = _api_user(make_user)
    body = {"model": MODEL, "prompt": "A red barn at dawn"}
    before = _books(user)

    held = lock_database()
    with httpx.Client(base_url=f"{server}/v1", headers=auth, timeout=DEADLINE) as http:
        # The key's first use records when it was used: a write, so this call needs the lock too.
        _assert_unavailable(http.get("/account/credits"))
        _assert_unavailable(http.post("/images/generate", json=body))
        _assert_unavailable(http.post("/images/generate", json=body, headers={"Idempotency-Key": "locked-1"}))
        held.release()

        assert _books(user) == before  # the refused generates charged nothing and created nothing
        credits = http.get("/account/credits")
        assert credits.status_code == 200 and credits.json()["credits_remaining"] == 100
        generated = http.post("/images/generate", json=body, headers={"Idempotency-Key": "locked-1"})
        assert generated.status_code == 200, generated.text
        again = http.post("/images/generate", json=body, headers={"Idempotency-Key": "locked-1"})
        assert again.json()["task_id"] == generated.json()["task_id"]
    credits_after, entries_after, rows_after = _books(user)
    assert (credits_after, entries_after, rows_after) == (100 - 7, before[1] + 1, 1)  # charged once


@sqlite_only
@pytest.mark.e2e
def test_with_the_database_locked_a_page_that_writes_answers_a_plain_503(make_user, server, lock_database):
    make_user("locked-out", tier="pro")
    with httpx.Client(base_url=server, timeout=DEADLINE) as http:
        token = http.get("/accounts/login").cookies["csrftoken"]
        form = {"username": "locked-out", "password": "pass-word-123", "csrfmiddlewaretoken": token}
        held = lock_database()
        refused = http.post("/accounts/login", data=form, headers={"Referer": f"{server}/accounts/login"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("text/html")
        assert 1 <= int(refused.headers["Retry-After"]) <= 5
        held.release()
        logged_in = http.post("/accounts/login", data=form, headers={"Referer": f"{server}/accounts/login"})
        assert logged_in.status_code == 302, logged_in.text
