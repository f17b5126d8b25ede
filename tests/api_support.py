"""Shared pieces of the `/v1` contract tests: keys, an HTTP client on the live server, images.

Every test here talks to the API over real HTTP (pytest-django's `live_server`, a
threaded server in the test process) with httpx, as an API client would. Test modules
get the fixtures through `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from django.core.cache import cache

from accounts import services as account_services
from accounts.models import User
from generations.models import Generation
from generations.worker import render as pipeline

MODEL = "seedream-5.0-lite"
# The fake engine paints fast; "broken" always fails, as an engine fault would.
FAKE_MODELS = {
    MODEL: {"engine": "fake", "options": {}},
    "broken": {"engine": "fake", "options": {"fail": "permanent"}},
}


@dataclass
class Account:
    user: User
    key: str
    http: httpx.Client

    def refresh(self) -> User:
        self.user.refresh_from_db()
        return self.user


@pytest.fixture
def _fresh_counters(db, settings) -> Iterator[None]:
    """The fake engine's catalog, and no rate-limit counters left over (the flush leaves the cache table)."""
    settings.STUDIO_MODELS = FAKE_MODELS
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_url(live_server, _fresh_counters) -> str:
    """The live server's /v1 base URL, as a client would configure it."""
    return f"{live_server.url}/v1"


@pytest.fixture
def account(make_user, api_url) -> Iterator[Callable[..., Account]]:
    """account(tier="pro", credits=1000): a user with a key and an httpx client that sends it."""
    clients: list[httpx.Client] = []

    def make(tier: str = "pro", credits: int | None = 1000, **kwargs: object) -> Account:
        user = make_user(tier=tier, credits=credits, **kwargs)
        _, raw = account_services.create_api_key(user=user, name="tests")
        http = httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {raw}"}, timeout=30)
        clients.append(http)
        return Account(user=user, key=raw, http=http)

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def anonymous(api_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as http:
        yield http


def generate(acct: Account, **fields: object) -> httpx.Response:
    return acct.http.post("/images/generate", json={"model": MODEL, "prompt": "A red barn at dawn", **fields})


def poll_until_finished(acct: Account, task_id: str, worker: object, *, timeout: float = 90) -> dict:
    """Poll GET /v1/images/{task_id} as a client would until it is no longer processing."""
    from tests.conftest import wait_for

    def finished() -> dict | None:
        body = acct.http.get(f"/images/{task_id}").json()
        return body if body["status"] != "processing" else None

    return wait_for(
        finished, timeout=timeout, interval=0.2, message=f"{task_id} to finish; worker log:\n{worker.log()}"
    )


def render(task_id: str) -> Generation:
    """Render a submitted image in this process, as a worker would (fake engine)."""
    pk = Generation.objects.values_list("pk", flat=True).get(public_id=task_id)
    pipeline.render(pk)
    return Generation.objects.get(pk=pk)


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The document's envelope with this status and code; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "status"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]["message"]
