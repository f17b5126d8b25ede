"""POST /v1/images/generate and GET /v1/images/{task_id}: the document's shapes, over HTTP."""

import re

import pytest
from django.utils import timezone

from accounts import ledger
from generations import forecast
from generations.models import Generation
from tests.api_support import MODEL, assert_error, generate, render
from tests.helpers import assert_image_link

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_minimal_request_answers_200_with_the_documents_fields(account):
    acct = account(credits=1050)
    response = acct.http.post("/images/generate", json={"model": MODEL, "prompt": "A serene mountain landscape"})
    assert response.status_code == 200, response.text
    body = response.json()
    g = Generation.objects.get(user=acct.user)
    assert body["task_id"] == g.public_id and body["task_id"].startswith("img_")
    assert body["status"] == "processing"
    assert body["model"] == MODEL
    assert body["credits_charged"] == 7
    assert body["credits_remaining"] == 1043 == ledger.balance(acct.user)
    assert isinstance(body["estimated_time_seconds"], int) and body["estimated_time_seconds"] > 0
    # Studio's additions: the seed to reproduce it, and where it is in the queue.
    assert body["seed"] == g.seed
    assert body["queue_position"] == 1
    assert list(body)[:6] == [
        "task_id",
        "status",
        "model",
        "credits_charged",
        "credits_remaining",
        "estimated_time_seconds",
    ]


def test_full_request_is_stored_as_sent_and_defaults_apply_to_a_minimal_one(account):
    acct = account()
    full = {
        "model": MODEL,
        "prompt": "Professional YouTube thumbnail with text 'TOP 10 TIPS' in bold red font",
        "aspect_ratio": "16:9",
        "deep_thinking": True,
        "style": "photorealistic",
        "colors": ["#FF0000", "#00f"],
        "seed": 1234,
        "webhook_url": "https://hooks.example/image-complete",
        "metadata": {"project": "youtube-thumbnails", "batch_id": "thumb-2026-04"},
    }
    task_id = acct.http.post("/images/generate", json=full).json()["task_id"]
    g = Generation.objects.get(public_id=task_id)
    assert (g.aspect_ratio, g.width, g.height, g.deep_thinking, g.style) == ("16:9", 1360, 768, True, "photorealistic")
    assert (g.colors, g.seed, g.webhook_url) == (["#ff0000", "#0000ff"], 1234, full["webhook_url"])
    assert g.metadata == full["metadata"]

    minimal = Generation.objects.get(public_id=generate(acct).json()["task_id"])
    assert (minimal.aspect_ratio, minimal.deep_thinking, minimal.style, minimal.colors) == ("1:1", False, "auto", [])


def test_the_javascript_examples_camelcase_options_are_ignored_not_refused(account):
    acct = account()
    response = generate(acct, aspect_ratio="16:9", deep_thinking=True, aspectRatio="16:9", deepThinking=True)
    assert response.status_code == 200, response.text


def test_estimate_comes_from_recent_real_render_times_and_the_queue_ahead(account):
    from datetime import timedelta

    acct = account()
    done = Generation.objects.get(public_id=generate(acct).json()["task_id"])
    Generation.objects.filter(pk=done.pk).update(
        stage="completed", started_at=done.created_at, finished_at=done.created_at + timedelta(seconds=42), progress=1
    )
    forecast._measured.clear()
    first = generate(acct).json()
    assert (first["estimated_time_seconds"], first["queue_position"]) == (42, 1)
    second = generate(acct).json()  # one render slot has been seen: it waits for the first
    assert (second["estimated_time_seconds"], second["queue_position"]) == (84, 2)


def test_processing_shape_has_progress_time_left_and_queue_position(account):
    acct = account()
    task_id = generate(acct).json()["task_id"]
    Generation.objects.filter(public_id=task_id).update(
        stage="rendering", progress=0.65, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    response = acct.http.get(f"/images/{task_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["task_id"] == task_id and body["status"] == "processing"
    assert body["progress"] == 0.65
    assert isinstance(body["estimated_time_remaining"], int) and body["estimated_time_remaining"] >= 0
    assert body["queue_position"] is None  # a worker has it
    assert ISO_Z.match(body["created_at"])
    assert list(body)[:4] == ["task_id", "status", "progress", "estimated_time_remaining"]


def test_completed_shape_is_the_documents_with_absolute_signed_links(account, live_server):
    acct = account()
    task_id = generate(acct, aspect_ratio="3:2", deep_thinking=True, metadata={"project": "p"}).json()["task_id"]
    g = render(task_id)
    body = acct.http.get(f"/images/{task_id}").json()
    assert list(body)[:11] == [
        "task_id",
        "status",
        "image_url",
        "image_url_webp",
        "width",
        "height",
        "model",
        "deep_thinking_used",
        "credits_charged",
        "metadata",
        "created_at",
    ]
    assert body["status"] == "completed"
    assert (body["width"], body["height"], body["model"]) == (1248, 832, MODEL)
    assert body["deep_thinking_used"] is True
    assert body["credits_charged"] == 7
    assert body["metadata"] == {"project": "p"}
    assert body["created_at"] == g.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["seed"] == g.seed and body["batch_id"] is None
    assert ISO_Z.match(body["expires_at"])
    for name, kind in (("image_url", "image/png"), ("image_url_webp", "image/webp"), ("thumbnail_url", "image/webp")):
        assert_image_link(body[name], live_server.url)
        download = acct.http.get(body[name])
        assert download.status_code == 200
        assert download.headers["content-type"] == kind


def test_failed_shape_says_why_and_the_credits_come_back(account):
    acct = account(credits=100)
    task_id = generate(acct, model="broken").json()["task_id"]
    assert ledger.balance(acct.user) == 93
    render(task_id)
    body = acct.http.get(f"/images/{task_id}").json()
    assert body["status"] == "failed"
    assert body["error"] == "the fake engine was told to fail"
    assert body["error_code"] == "generation_failed"
    assert body["credits_refunded"] == 7
    assert ledger.balance(acct.user) == 100 == ledger.ledger_total(acct.user)


def test_unknown_task_id_is_404_in_the_envelope(account):
    acct = account()
    message = assert_error(acct.http.get("/images/img_doesnotexist"), 404, "not_found")
    assert "img_doesnotexist" in message


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"model": "dall-e-3"}, "invalid_model", "seedream-5.0-lite"),
        ({"model": None}, "invalid_model", "required"),
        ({"prompt": ""}, "invalid_prompt", "empty"),
        ({"prompt": "x" * 1001}, "invalid_prompt", "1000"),
        ({"prompt": 42}, "invalid_prompt", "string"),
        ({"aspect_ratio": "2:1"}, "invalid_aspect_ratio", "16:9"),
        ({"prompt": "some gore on a poster"}, "content_policy", "gore"),
        ({"style": 7}, "invalid_style", "style"),
        ({"colors": ["red"]}, "invalid_colors", "hex"),
        ({"deep_thinking": "yes"}, "invalid_deep_thinking", "deep_thinking"),
        ({"seed": -1}, "invalid_seed", "seed"),
        ({"metadata": [1, 2]}, "invalid_metadata", "metadata"),
        ({"webhook_url": "ftp://example.com/x"}, "invalid_webhook_url", "webhook_url"),
    ],
)
def test_each_bad_field_gets_its_code_and_charges_and_creates_nothing(account, fields, code, words):
    acct = account(credits=100)
    body = {"model": MODEL, "prompt": "A red barn", **fields}
    message = assert_error(acct.http.post("/images/generate", json=body), 400, code)
    assert words in message
    assert not Generation.objects.exists()
    assert ledger.balance(acct.user) == 100


def test_insufficient_credits_is_402_with_the_documents_message(account):
    acct = account(credits=3)
    message = assert_error(generate(acct), 402, "insufficient_credits")
    assert message == "Not enough credits to complete this generation. Required: 7, Available: 3"
    assert not Generation.objects.exists()
    assert ledger.balance(acct.user) == 3


def test_an_unfinished_batch_holds_one_concurrent_place_and_the_429_says_so_in_its_own_headers(account):
    acct = account(tier="free", credits=100)  # 2 concurrent on the free tier, batches of up to 5
    items = [{"model": MODEL, "prompt": f"Poster {n}"} for n in range(5)]
    assert acct.http.post("/images/batch", json={"generations": items}).status_code == 200  # one place, five images
    assert generate(acct).status_code == 200  # the second place
    refused = generate(acct)
    assert "2 of 2" in assert_error(refused, 429, "rate_limited")
    assert refused.headers["X-Concurrency-Limit"] == "2" and refused.headers["X-Concurrency-In-Flight"] == "2"
    assert int(refused.headers["Retry-After"]) > 0
    # The minute's allowance is not what refused it: its headers still tell the minute, as on every reply.
    assert int(refused.headers["X-RateLimit-Remaining"]) > 0
    again = acct.http.post("/images/batch", json={"generations": items[:1]})
    assert_error(again, 429, "rate_limited")  # nor may another batch start
    assert Generation.objects.filter(user=acct.user).count() == 6
    assert ledger.balance(acct.user) == 100 - 6 * 7
    assert "X-Concurrency-Limit" not in generate(acct, prompt="").headers  # only a refusal for what is in flight


def test_too_many_in_flight_for_the_tier_is_429_with_retry_after(account):
    acct = account(tier="free", credits=100)  # 2 concurrent on the free tier
    assert generate(acct).status_code == 200
    assert generate(acct).status_code == 200
    response = generate(acct)
    message = assert_error(response, 429, "rate_limited")
    assert "2 of 2" in message
    assert int(response.headers["Retry-After"]) > 0
    assert Generation.objects.count() == 2
    assert ledger.balance(acct.user) == 86
