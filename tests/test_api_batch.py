"""POST /v1/images/batch and GET /v1/images/batch/{batch_id}, over HTTP."""

import pytest

from accounts import ledger
from generations import services
from generations.models import Batch, Generation
from tests.api_support import MODEL, assert_error, render
from tests.helpers import link_path


def item(prompt: str = "Minimalist logo design, blue circle with lightning bolt", **fields: object) -> dict:
    return {"prompt": prompt, "model": MODEL, "aspect_ratio": "1:1", "deep_thinking": False, **fields}


def test_the_documents_batch_request_answers_the_documents_fields(account):
    acct = account(credits=1050)
    body = {
        "generations": [
            item(deep_thinking=True),
            item("Professional headshot background, soft gradient"),
            item("YouTube thumbnail with text 'MUST WATCH' in red", aspect_ratio="16:9", deep_thinking=True),
        ],
        "webhook_url": "https://hooks.example/batch-complete",
    }
    response = acct.http.post("/images/batch", json=body)
    assert response.status_code == 200, response.text
    reply = response.json()
    batch = Batch.objects.get(user=acct.user)
    assert reply["batch_id"] == batch.public_id and reply["batch_id"].startswith("batch_")
    assert reply["status"] == "processing"
    assert reply["total_generations"] == 3
    assert reply["total_credits_charged"] == 21
    assert reply["credits_remaining"] == 1029 == ledger.balance(acct.user)
    items = list(batch.generations.order_by("batch_index"))
    assert reply["task_ids"] == [g.public_id for g in items]
    assert [g.aspect_ratio for g in items] == ["1:1", "1:1", "16:9"]
    # The batch's webhook applies to items that name none of their own.
    assert {g.webhook_url for g in items} == {"https://hooks.example/batch-complete"}


def test_an_items_own_webhook_wins_over_the_batchs(account):
    acct = account()
    body = {
        "generations": [item(webhook_url="https://a.example/hook"), item()],
        "webhook_url": "https://b.example/hook",
    }
    acct.http.post("/images/batch", json=body).raise_for_status()
    hooks = list(Generation.objects.order_by("batch_index").values_list("webhook_url", flat=True))
    assert hooks == ["https://a.example/hook", "https://b.example/hook"]


def test_batch_status_lists_each_item_and_finishes_with_counts_when_some_fail(account):
    acct = account(credits=100)
    body = {"generations": [item(), item(model="broken"), item()]}
    batch_id = acct.http.post("/images/batch", json=body).json()["batch_id"]

    during = acct.http.get(f"/images/batch/{batch_id}").json()
    assert during["status"] == "processing"
    assert [(r["index"], r["status"], r["image_url"]) for r in during["results"]] == [
        (0, "processing", None),
        (1, "processing", None),
        (2, "processing", None),
    ]

    for g in Generation.objects.filter(batch__public_id=batch_id):
        render(g.public_id)
    after = acct.http.get(f"/images/batch/{batch_id}").json()
    assert after["batch_id"] == batch_id
    assert after["status"] == "completed"
    assert after["total_generations"] == 3
    assert after["counts"] == {"completed": 2, "failed": 1, "canceled": 0, "processing": 0}
    first, broken, last = after["results"]
    assert list(first)[:4] == ["index", "status", "task_id", "image_url"]
    assert first["status"] == "completed" and link_path(first["image_url"]).endswith(".png") and first["error"] is None
    assert link_path(first["image_url_webp"]).endswith(".webp")
    assert broken["status"] == "failed" and broken["image_url"] is None
    assert broken["error"] == "the fake engine was told to fail" and broken["error_code"] == "generation_failed"
    assert last["status"] == "completed" and last["index"] == 2
    assert acct.http.get(f"/images/{broken['task_id']}").json()["batch_id"] == batch_id
    assert ledger.balance(acct.user) == 100 - 14 == ledger.ledger_total(acct.user)


def test_more_than_50_is_batch_too_large_before_any_item_is_looked_at(account):
    acct = account(tier="enterprise", credits=10_000)
    body = {"generations": [{"prompt": ""}] * 51}  # every item invalid too: size is reported first
    message = assert_error(acct.http.post("/images/batch", json=body), 400, "batch_too_large")
    assert "51" in message and "50" in message
    assert not Batch.objects.exists() and ledger.balance(acct.user) == 10_000


def test_over_the_tiers_batch_size_names_the_tiers_limit(account):
    acct = account(tier="free", credits=1000)  # batch size 5 on the free tier
    message = assert_error(acct.http.post("/images/batch", json={"generations": [item()] * 6}), 400, "batch_too_large")
    assert "free tier's batch size of 5" in message
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("generations", "code", "words"),
    [
        ([item(), item(prompt=""), item()], "invalid_prompt", "generations[1].prompt: "),
        ([item(), item(), item(aspect_ratio="5:4")], "invalid_aspect_ratio", "generations[2].aspect_ratio: "),
        ([item(model="nope")], "invalid_model", "generations[0].model: "),
        ([item(prompt="nsfw poster")], "content_policy", "generations[0].prompt: "),
        ([item(), "just a prompt"], "invalid_request", "generations[1]: "),
    ],
)
def test_an_invalid_item_is_reported_by_index_and_nothing_is_charged(account, generations, code, words):
    acct = account(credits=100)
    message = assert_error(acct.http.post("/images/batch", json={"generations": generations}), 400, code)
    assert message.startswith(words)
    assert not Batch.objects.exists() and not Generation.objects.exists()
    assert ledger.balance(acct.user) == 100


@pytest.mark.parametrize("body", [{}, {"generations": []}, {"generations": "x"}, {"generations": {"0": {}}}])
def test_generations_must_be_a_non_empty_array(account, body):
    acct = account()
    assert "non-empty array" in assert_error(acct.http.post("/images/batch", json=body), 400, "invalid_request")


def test_a_bad_batch_webhook_url_is_refused(account):
    acct = account()
    response = acct.http.post("/images/batch", json={"generations": [item()], "webhook_url": "not a url"})
    assert_error(response, 400, "invalid_webhook_url")


def test_a_batch_that_cannot_be_paid_creates_nothing(account):
    acct = account(credits=20)
    message = assert_error(
        acct.http.post("/images/batch", json={"generations": [item()] * 3}), 402, "insufficient_credits"
    )
    assert message == "Not enough credits to complete this generation. Required: 21, Available: 20"
    assert not Batch.objects.exists()


def test_a_sixth_batch_in_progress_is_rate_limited(account):
    acct = account(tier="pro", credits=1000)
    for _ in range(5):
        assert acct.http.post("/images/batch", json={"generations": [item()]}).status_code == 200
    response = acct.http.post("/images/batch", json={"generations": [item()]})
    assert "at most 5" in assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert Batch.objects.count() == 5


def test_unknown_batch_is_404(account):
    acct = account()
    assert_error(acct.http.get("/images/batch/batch_nope"), 404, "not_found")


def test_a_canceled_item_counts_as_canceled_and_finishes_the_batch(account):
    acct = account()
    batch_id = acct.http.post("/images/batch", json={"generations": [item()]}).json()["batch_id"]
    canceled = Generation.objects.get(batch__public_id=batch_id)
    services.cancel(user=canceled.user, generation=canceled)
    body = acct.http.get(f"/images/batch/{batch_id}").json()
    assert body["status"] == "completed"
    assert body["counts"]["canceled"] == 1
    assert body["results"][0]["error_code"] == "canceled"
