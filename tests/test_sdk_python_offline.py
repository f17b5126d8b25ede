"""The Python SDK without a Studio: retries, backoff and Idempotency-Key reuse on a loopback
fake (pytest-httpserver), and webhook verification against Studio's own signing code.

The SDK against a live Studio and a real worker is `test_sdk_python.py`.
"""

import json
import sys
import time

import pytest
from werkzeug import Request, Response

from generations.webhooks import signing as webhook_signing
from tests.conftest import ROOT
from tests.webhook_support import document_verify_webhook

sys.path.insert(0, str(ROOT / "sdk" / "python" / "src"))

import seedance
from seedance import (
    APIConnectionError,
    APIError,
    RateLimitError,
    SeedanceClient,
    Webhook,
    WebhookVerificationError,
    verify_webhook,
)

MODEL = "seedream-5.0-lite"


@pytest.fixture
def sleeps(monkeypatch):
    """The SDK's pauses, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(seedance._transport, "sleep", recorded.append)
    return recorded


# --- Retries on a loopback fake ----------------------------------------------------------------


def fake_client(httpserver, **options) -> SeedanceClient:
    return SeedanceClient(api_key="sk_fake", base_url=httpserver.url_for("/v1"), **options)


def scripted(replies: list[Response], seen: list[Request]):
    """A handler that answers with `replies` in turn and records each request."""

    def handler(request: Request) -> Response:
        seen.append(request)
        return replies[min(len(seen), len(replies)) - 1]

    return handler


def error_reply(status: int, code: str, **headers: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": f"{code}!", "status": status}})
    return Response(body, status=status, headers=headers, content_type="application/json")


def ok(body: dict) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def test_a_429_is_retried_after_retry_after_with_the_same_idempotency_key(httpserver, sleeps):
    seen: list[Request] = []
    replies = [
        error_reply(429, "rate_limited", **{"Retry-After": "2"}),
        ok({"task_id": "img_1", "status": "processing"}),
    ]
    httpserver.expect_request("/v1/images/generate", method="POST").respond_with_handler(scripted(replies, seen))
    with fake_client(httpserver) as client:
        reply = client.images.generate(model=MODEL, prompt="p", deep_thinking=True, seed=5, wait=False)
    assert reply == {"task_id": "img_1", "status": "processing"}
    assert sleeps == [2]
    keys = [r.headers["Idempotency-Key"] for r in seen]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
    assert seen[0].headers["Authorization"] == "Bearer sk_fake"
    assert json.loads(seen[0].data) == {"model": MODEL, "prompt": "p", "deep_thinking": True, "seed": 5}


def test_every_call_gets_a_fresh_idempotency_key(httpserver, sleeps):
    seen: list[Request] = []
    handler = scripted([ok({"task_id": "img_1", "status": "processing"})], seen)
    httpserver.expect_request("/v1/images/generate", method="POST").respond_with_handler(handler)
    with fake_client(httpserver) as client:
        client.images.generate(model=MODEL, prompt="p", wait=False)
        client.images.generate(model=MODEL, prompt="p", wait=False)
    assert seen[0].headers["Idempotency-Key"] != seen[1].headers["Idempotency-Key"]


def test_rate_limits_past_max_retries_raise_with_retry_after(httpserver, sleeps):
    seen: list[Request] = []
    handler = scripted([error_reply(429, "rate_limited", **{"Retry-After": "3"})], seen)
    httpserver.expect_request("/v1/account/credits").respond_with_handler(handler)
    with fake_client(httpserver, max_retries=2) as client, pytest.raises(RateLimitError) as caught:
        client.account.credits()
    assert caught.value.retry_after == 3 and len(seen) == 3 and sleeps == [3, 3]


def test_server_errors_back_off_exponentially_then_succeed_or_raise(httpserver, sleeps):
    seen: list[Request] = []
    replies = [error_reply(503, "server_error"), Response("bad gateway", status=502), ok({"tier": "pro"})]
    httpserver.expect_request("/v1/account/credits").respond_with_handler(scripted(replies, seen))
    httpserver.expect_request("/v1/models").respond_with_response(error_reply(500, "server_error"))
    with fake_client(httpserver) as client:
        assert client.account.credits() == {"tier": "pro"}
        assert sleeps == [0.5, 1.0]
        sleeps.clear()
        with pytest.raises(APIError) as caught:
            client.models.list()
    assert (caught.value.status, caught.value.code) == (500, "server_error")
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_conflict_while_the_first_try_runs_is_retried(httpserver, sleeps):
    seen: list[Request] = []
    replies = [error_reply(409, "idempotency_in_progress"), ok({"batch_id": "batch_1", "status": "processing"})]
    httpserver.expect_request("/v1/images/batch", method="POST").respond_with_handler(scripted(replies, seen))
    with fake_client(httpserver) as client:
        reply = client.images.batch_generate(generations=[{"model": MODEL, "prompt": "p"}], wait=False)
    assert reply["batch_id"] == "batch_1" and len(seen) == 2
    assert seen[0].headers["Idempotency-Key"] == seen[1].headers["Idempotency-Key"]


def test_an_unreachable_api_is_retried_then_raises_a_connection_error(sleeps):
    client = SeedanceClient(api_key="k", base_url="http://127.0.0.1:9/v1")  # the discard port: nothing listens
    with client, pytest.raises(APIConnectionError):
        client.account.credits()
    assert sleeps == [0.5, 1.0, 2.0]


def test_wait_polls_with_a_bounded_interval_until_the_image_is_done(httpserver, sleeps):
    seen: list[Request] = []
    replies = [ok({"task_id": "img_1", "status": "processing"})] * 5 + [ok({"task_id": "img_1", "status": "completed"})]
    httpserver.expect_request("/v1/images/img_1").respond_with_handler(scripted(replies, seen))
    with fake_client(httpserver, poll_interval=1.0) as client:
        assert client.images.wait("img_1")["status"] == "completed"
    assert sleeps == [0.25, 0.5, 1.0, 1.0, 1.0]


def test_a_wait_that_runs_out_of_time_raises_wait_timeout(httpserver, sleeps):
    httpserver.expect_request("/v1/images/img_2").respond_with_response(ok({"status": "processing"}))
    with fake_client(httpserver) as client, pytest.raises(seedance.WaitTimeoutError) as caught:
        client.images.wait("img_2", timeout=0)
    assert isinstance(caught.value, TimeoutError) and sleeps == []


def test_the_base_url_is_the_documents_unless_given_or_in_the_environment(monkeypatch):
    monkeypatch.delenv("SEEDANCE_BASE_URL", raising=False)
    assert SeedanceClient(api_key="k").base_url == "https://api.seedance.it.com/v1"
    monkeypatch.setenv("SEEDANCE_BASE_URL", "http://127.0.0.1:8000/v1/")
    assert SeedanceClient(api_key="k").base_url == "http://127.0.0.1:8000/v1"
    assert SeedanceClient(api_key="k", base_url="http://studio/v1").base_url == "http://studio/v1"
    monkeypatch.setenv("SEEDANCE_API_KEY", "")
    with pytest.raises(ValueError):
        SeedanceClient()


# --- Webhooks: signatures made by Studio's own signing code ------------------------------------


def test_verify_webhook_accepts_studios_signature_and_agrees_with_the_documents_function():
    secret = webhook_signing.new_secret()
    body = json.dumps({"event": "image.completed", "task_id": "img_1", "status": "completed"})
    signature = webhook_signing.seedance_signature(body.encode(), secret)
    documents = document_verify_webhook()
    cases = [
        (body, signature, secret),
        (body + " ", signature, secret),
        (body, signature, webhook_signing.new_secret()),
        (body, signature[:-1] + ("0" if signature[-1] != "0" else "1"), secret),
    ]
    for case in cases:
        assert verify_webhook(*case) is documents(*case)
    assert verify_webhook(body, signature, secret) is True
    assert verify_webhook(body.encode(), signature, secret) is True
    assert verify_webhook(body, None, secret) is False


def test_webhook_verifies_studios_standard_headers_during_a_rotation_and_refuses_the_rest():
    old, new = webhook_signing.new_secret(), webhook_signing.new_secret()
    body = json.dumps({"event": "batch.completed", "batch_id": "batch_1"}).encode()
    now = int(time.time())
    headers = webhook_signing.signature_headers("msg_1", now, body, [new, old])
    for secret in (new, old):
        assert Webhook(secret).verify(body, headers) == {"event": "batch.completed", "batch_id": "batch_1"}
    assert Webhook(new).verify(body.decode(), {k.upper(): v for k, v in headers.items()})["batch_id"] == "batch_1"
    assert verify_webhook(body, headers["X-Seedance-Signature"], new)
    assert Webhook(new).sign("msg_1", now, body) == webhook_signing.standard_signature("msg_1", now, body, new)

    refused = [
        (body + b" ", headers),
        (body, {**headers, "webhook-id": "msg_2"}),
        (body, webhook_signing.signature_headers("msg_1", now - 600, body, [new])),
        (body, webhook_signing.signature_headers("msg_1", now + 600, body, [new])),
        (body, {"webhook-id": "msg_1"}),
    ]
    for payload, bad in refused:
        with pytest.raises(WebhookVerificationError):
            Webhook(new).verify(payload, bad)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook_signing.new_secret()).verify(body, headers)


# --- Event streams and batch cancel on a loopback fake -----------------------------------------


def sse_reply(*events: tuple[str, str, dict], retry: int | None = None, extra: str = "", **headers: str) -> Response:
    """An event-stream body: `(id, name, data)` events, a `retry:` hint and keep-alives."""
    body = f"retry: {retry}\n\n" if retry is not None else ""
    for event_id, name, data in events:
        body += f": keep-alive\n\nid: {event_id}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
    return Response(body + extra, headers=headers, content_type="text/event-stream")


def test_stream_reconnects_with_last_event_id_until_the_terminal_event(httpserver, sleeps):
    seen: list[Request] = []
    replies = [
        sse_reply(("5", "progress", {"progress": 0.2}), ("9", "progress", {"progress": 0.5}), retry=500),
        sse_reply(("12", "progress", {"progress": 0.8})),  # the server's time is up: no terminal event
        sse_reply(("20", "completed", {"status": "completed", "image_url": "u"}), ("21", "progress", {})),
    ]
    httpserver.expect_request("/v1/images/img_1/events").respond_with_handler(scripted(replies, seen))
    with fake_client(httpserver) as client:
        got = list(client.images.stream("img_1"))
    assert [(e.id, e.event) for e in got] == [
        ("5", "progress"),
        ("9", "progress"),
        ("12", "progress"),
        ("20", "completed"),
    ]
    assert got[-1].data == {"status": "completed", "image_url": "u"} and got[-1].terminal
    assert [r.headers.get("Last-Event-ID") for r in seen] == [None, "9", "12"]
    assert {r.headers["Accept"] for r in seen} == {"text/event-stream"}
    assert seen[0].headers["Authorization"] == "Bearer sk_fake"
    assert sleeps == [0.5, 0.5]  # the server's retry hint, before each reconnection


def test_a_dropped_stream_is_resumed_and_a_204_ends_the_iteration(httpserver, sleeps):
    seen: list[Request] = []
    cut = sse_reply(("3", "progress", {"progress": 0.1}), retry=200, extra="id: 4\nevent: progr")
    cut.headers["Content-Length"] = str(len(cut.get_data()) + 500)  # the connection ends mid-event
    replies = [cut, Response(status=204)]
    httpserver.expect_request("/v1/images/batch/batch_1/events").respond_with_handler(scripted(replies, seen))
    with fake_client(httpserver) as client:
        got = list(client.images.stream_batch("batch_1", last_event_id="1"))
    assert [e.id for e in got] == ["3"]
    assert [r.headers.get("Last-Event-ID") for r in seen] == ["1", "3"]
    assert sleeps == [0.5]  # a dropped connection backs off (0.5 s), longer than the retry hint (0.2 s)


def test_a_stream_that_cannot_start_raises_the_envelopes_error(httpserver, sleeps):
    httpserver.expect_request("/v1/images/img_x/events").respond_with_response(error_reply(404, "not_found"))
    with fake_client(httpserver) as client, pytest.raises(seedance.NotFoundError):
        next(client.images.stream("img_x"))


def test_cancel_batch_posts_with_an_idempotency_key_and_returns_the_reply(httpserver, sleeps):
    seen: list[Request] = []
    reply = {"batch_id": "batch_1", "status": "completed", "canceled": 2, "credits_refunded": 14}
    handler = scripted([ok(reply)], seen)
    httpserver.expect_request("/v1/images/batch/batch_1/cancel", method="POST").respond_with_handler(handler)
    with fake_client(httpserver) as client:
        assert client.images.cancel_batch("batch_1") == reply
        client.images.cancel_batch("batch_1", idempotency_key="mine")
    assert len(seen[0].headers["Idempotency-Key"]) == 36 and seen[1].headers["Idempotency-Key"] == "mine"
