"""Every /v1 error leaves in the document's envelope: auth, JSON, 404, 405, 500, the nine codes."""

import pytest

from accounts import services as account_services
from generations.api.errors import ERRORS
from generations.models import Generation
from tests.api_support import MODEL, assert_error, generate


def test_the_documents_nine_codes_are_in_the_table_with_the_documents_statuses():
    document = {
        "invalid_api_key": 401,
        "insufficient_credits": 402,
        "invalid_model": 400,
        "invalid_prompt": 400,
        "invalid_aspect_ratio": 400,
        "rate_limited": 429,
        "content_policy": 400,
        "generation_failed": 500,
        "batch_too_large": 400,
    }
    assert {e.code: e.status for e in ERRORS.values() if e.in_document} == document


def test_no_authorization_header_is_401_saying_how_to_send_the_key(anonymous):
    response = anonymous.get("/account/credits")
    message = assert_error(response, 401, "invalid_api_key")
    assert "Missing Authorization header" in message and "Bearer" in message
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # No account, so no rate-limit headers on a 401.
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("Basic dXNlcjpwYXNz", "Bearer scheme"),
        ("Token sk_abc", "Bearer scheme"),
        ("Bearer", "empty"),
        ("Bearer sk_a sk_b", "spaces"),
        ("Bearer sk_not_a_real_key", "invalid"),
    ],
)
def test_malformed_or_unknown_keys_are_401_naming_the_problem(anonymous, header, words):
    message = assert_error(anonymous.get("/account/credits", headers={"Authorization": header}), 401, "invalid_api_key")
    assert words in message


def test_a_revoked_key_is_refused_and_its_owner_is_not_charged(account, anonymous):
    acct = account(credits=100)
    account_services.revoke_api_key(key=acct.user.api_keys.get())
    assert_error(generate(acct), 401, "invalid_api_key")
    assert not Generation.objects.exists()


def test_a_key_records_when_it_was_last_used(account):
    acct = account()
    key = acct.user.api_keys.get()
    assert key.last_used_at is None
    acct.http.get("/account/credits")
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "body",
    [b'{"model": "seedream', b'{"model": "m", "prompt": "p", "metadata": {"x": NaN}}', b"[" * 100_000, b"\xff\xfe"],
)
def test_malformed_json_is_400_invalid_json(account, body):
    acct = account()
    response = acct.http.post("/images/generate", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")
    assert not Generation.objects.exists()


@pytest.mark.parametrize("body", [b"[1, 2]", b'"a prompt"', b"null", b""])
def test_a_body_that_is_not_an_object_is_400(account, body):
    acct = account()
    response = acct.http.post("/images/generate", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid_request", "invalid_json"}


@pytest.mark.parametrize("path", ["/nothing-here", "/images/abc/def/ghi", "/", "/images/generate/", "/v2/images"])
def test_unknown_paths_under_v1_are_404_in_the_envelope(anonymous, path):
    assert_error(anonymous.get(path), 404, "not_found")
    assert_error(anonymous.post(path, json={}), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/images/generate", "POST"),
        ("DELETE", "/images/img_x", "GET"),
        ("PUT", "/account/credits", "GET"),
        ("GET", "/images/batch", "POST"),
        ("GET", "/images/img_x/cancel", "POST"),
    ],
)
def test_a_known_path_with_the_wrong_method_is_405_with_allow(account, method, path, allow):
    acct = account()
    response = acct.http.request(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


def test_an_unexpected_exception_is_500_server_error_in_the_envelope(account, monkeypatch):
    from generations.api import shapes as api_shapes

    def explode(user):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(api_shapes, "credits", explode)
    acct = account()
    response = acct.http.get("/account/credits")
    message = assert_error(response, 500, "server_error")
    assert "fire" not in message  # internals stay in the log
    assert response.headers["X-RateLimit-Limit"] == "120"


def test_a_body_over_the_size_limit_is_413(account, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    acct = account()
    response = acct.http.post("/images/generate", json={"model": MODEL, "prompt": "x" * 2000})
    assert_error(response, 413, "request_too_large")


def test_every_error_from_an_authenticated_call_carries_the_rate_limit_headers(account):
    acct = account(tier="starter")
    for response, (scope, limit) in (
        (acct.http.get("/images/img_missing"), ("polling", 300)),  # a status poll: its own allowance
        (acct.http.post("/images/generate", json={"model": "nope", "prompt": "x"}), ("requests", 30)),
        (acct.http.get("/images", params={"limit": "0"}), ("requests", 30)),
        (acct.http.delete("/images/img_missing"), ("requests", 30)),  # 405, answered before any endpoint runs
        (acct.http.get("/no/such/path"), ("requests", 30)),  # 404 of the catch-all
    ):
        assert response.status_code in (400, 404, 405)
        assert response.headers["X-RateLimit-Scope"] == scope
        assert response.headers["X-RateLimit-Limit"] == str(limit)
        assert int(response.headers["X-RateLimit-Remaining"]) < limit
        assert int(response.headers["X-RateLimit-Reset"]) > 0


@pytest.mark.parametrize("url", ["http://[", "https://[::1", "http://example.com:99999/hook", "http://example.com:x/"])
def test_a_webhook_url_that_does_not_parse_is_400_not_500(account, url):
    """Schemathesis sent `http://[` as a batch's webhook_url: urlsplit's ValueError was a 500."""
    acct = account()
    one = acct.http.post("/images/generate", json={"model": MODEL, "prompt": "x", "webhook_url": url})
    assert_error(one, 400, "invalid_webhook_url")
    batch = acct.http.post("/images/batch", json={"generations": [{"model": MODEL, "prompt": "x"}], "webhook_url": url})
    assert_error(batch, 400, "invalid_webhook_url")
    assert not Generation.objects.filter(user=acct.user).exists()
