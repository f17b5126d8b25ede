"""Redis as the cache, down: `/v1` answers 503 `service_unavailable` with Retry-After, pages a plain 503."""

from __future__ import annotations

import socket

import pytest

from accounts import ledger
from accounts import services as account_services
from generations.models import Generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}"}
    }


def test_an_api_call_with_the_cache_down_is_503_in_the_envelope_and_charges_nothing(make_user, client, redis_down):
    user = make_user()
    _, key = account_services.create_api_key(user=user, name="t")
    response = client.post(
        "/v1/images/generate",
        {"model": "seedream-5.0-lite", "prompt": "A lighthouse"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 503 and response["Retry-After"] == "3"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "cache" in response.json()["error"]["message"]
    assert not Generation.objects.exists() and ledger.balance(user) == 50 == ledger.ledger_total(user)


def test_the_studio_page_still_answers_with_the_cache_down(logged_in, redis_down):
    response = logged_in.get("/")
    assert response.status_code == 200 and b"data-generate" in response.content
    assert b"data-rendering-paused" not in response.content  # unknown is not claimed as paused; /healthz says 503
