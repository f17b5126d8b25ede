"""The Python SDK (`sdk/python`, package `seedance`) against a real Studio, and its retry policy on a fake.

Studio runs as pytest-django's `live_server` with a real Celery worker rendering with the
`typeset` engine, so `generate` really waits for a real image. Retries, backoff and
Idempotency-Key reuse are checked on a loopback fake (pytest-httpserver), where a 429 or a
503 can be scripted; the SDK's pauses go through `seedance._transport.sleep`, which those
tests record instead of sleeping.
"""

import io
import json
import sys
from types import SimpleNamespace

import pytest
from PIL import Image

from accounts import ledger, ratelimit
from tests.api_support import render
from tests.conftest import ROOT
from tests.helpers import assert_image_link

sys.path.insert(0, str(ROOT / "sdk" / "python" / "src"))

import seedance
from seedance import (
    AuthenticationError,
    ConflictError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    SeedanceClient,
    SeedanceError,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOCUMENT = ROOT.parent / "shared" / "seed" / "000_a5a7463e9e317927.txt"
MODEL = "seedream-5.0-lite"
TYPESET = {MODEL: {"engine": "typeset"}}

# The document's SDK snippets, verbatim (test_the_snippets_are_the_documents checks it).
SDK_SNIPPET = """from seedance import SeedanceClient

client = SeedanceClient(api_key="your_key")
result = client.images.generate(
    model="seedream-5.0-lite",
    prompt="A beautiful sunset",
    deep_thinking=True
)"""

ECOMMERCE_SNIPPET = """def generate_product_images(product):
    prompts = [
        f"Product photo of {product.name}, white background, studio lighting, 1:1",
        f"Lifestyle photo of {product.name} in use, natural setting, 16:9",
        f"Product detail close-up of {product.name}, macro photography, 1:1"
    ]

    batch = client.images.batch_generate(
        generations=[
            {"model": "seedream-5.0-lite", "prompt": p}
            for p in prompts
        ]
    )

    return batch"""

SOCIAL_SNIPPET = """def generate_weekly_social_content(brand, topics):
    generations = []
    for topic in topics:
        generations.append({
            "model": "seedream-5.0-lite",
            "prompt": f"{brand.style_prefix} {topic}, social media post, 1:1",
            "aspect_ratio": "1:1",
            "deep_thinking": True,
            "metadata": {"topic": topic, "platform": "instagram"}
        })

    return client.images.batch_generate(generations=generations)"""


@pytest.fixture
def typeset(api_url, settings):
    """The live server's catalog: the model id served by the embedded typeset engine."""
    settings.STUDIO_MODELS = TYPESET
    return api_url


@pytest.fixture
def worker(typeset, start_worker):
    return start_worker(STUDIO_MODELS_JSON=json.dumps(TYPESET))


@pytest.fixture
def sdk(api_url):
    """sdk(key, **options): a SeedanceClient on the live server; all are closed after the test."""
    clients = []

    def make(key: str, **options) -> SeedanceClient:
        client = SeedanceClient(api_key=key, base_url=api_url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def png_size(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


# --- The document's snippets against a real Studio and worker ----------------------------------


def test_the_snippets_are_the_documents():
    if not DOCUMENT.exists():
        pytest.skip("the product document is not beside this checkout")
    text = DOCUMENT.read_text()
    for snippet in (SDK_SNIPPET, ECOMMERCE_SNIPPET, SOCIAL_SNIPPET):
        assert snippet in text


def test_the_documents_snippet_waits_for_the_image_which_downloads_at_its_size(
    worker, account, monkeypatch, typeset, tmp_path
):
    acct = account(credits=100)
    monkeypatch.setenv("SEEDANCE_BASE_URL", typeset)  # the key is the only change to the snippet
    namespace: dict = {}
    exec(SDK_SNIPPET.replace("your_key", acct.key), namespace)
    client, result = namespace["client"], namespace["result"]
    try:
        assert result["status"] == "completed", worker.log()
        assert result["task_id"].startswith("img_")
        assert (result["width"], result["height"]) == (1024, 1024)
        assert result["deep_thinking_used"] is True and result["model"] == MODEL
        assert_image_link(result["image_url"], typeset.removesuffix("/v1"))
        saved = client.download(result["image_url"], tmp_path / "output" / "my_image.png")
        assert png_size(saved.read_bytes()) == ("PNG", (1024, 1024))
        assert ledger.balance(acct.user) == 93

        wide = client.images.generate(
            model=MODEL, prompt="Poster with text 'OPEN LATE'", aspect_ratio="16:9", metadata={"post_id": 7}
        )
        assert (wide["width"], wide["height"], wide["metadata"]) == (1360, 768, {"post_id": 7})
        assert png_size(client.download(wide, tmp_path / "wide.png").read_bytes()) == ("PNG", (1360, 768))
        assert client.images.get(wide["task_id"])["status"] == "completed"
    finally:
        client.close()


def test_the_documents_batch_patterns_wait_for_every_image(worker, account, sdk):
    acct = account(credits=100)
    namespace = {"client": sdk(acct.key)}
    exec(ECOMMERCE_SNIPPET, namespace)
    exec(SOCIAL_SNIPPET, namespace)

    batch = namespace["generate_product_images"](SimpleNamespace(name="Lamp"))
    assert batch["status"] == "completed", worker.log()
    assert batch["batch_id"].startswith("batch_")
    assert [r["index"] for r in batch["results"]] == [0, 1, 2]
    assert all(r["status"] == "completed" and r["image_url"] for r in batch["results"])
    assert ledger.balance(acct.user) == 100 - 21

    social = namespace["generate_weekly_social_content"](SimpleNamespace(style_prefix="Bold"), ["tea", "cake"])
    assert [r["status"] for r in social["results"]] == ["completed", "completed"]
    first = namespace["client"].images.get(social["results"][0]["task_id"])
    assert first["metadata"] == {"topic": "tea", "platform": "instagram"} and first["deep_thinking_used"] is True


def test_batch_generate_without_waiting_returns_the_submit_reply(account, typeset, sdk):
    client = sdk(account(credits=100).key)
    reply = client.images.batch_generate(generations=[{"model": MODEL, "prompt": "a"}] * 2, wait=False)
    assert (reply["status"], reply["total_generations"], reply["total_credits_charged"]) == ("processing", 2, 14)
    assert client.images.get_batch(reply["batch_id"])["status"] == "processing"


# --- Typed errors from the document's envelope -------------------------------------------------


def test_a_wrong_key_raises_authentication_error(typeset, sdk):
    with pytest.raises(AuthenticationError) as caught:
        sdk("sk_not_a_real_key").account.credits()
    assert (caught.value.code, caught.value.status) == ("invalid_api_key", 401)
    assert caught.value.message and isinstance(caught.value, SeedanceError)


def test_too_few_credits_raises_insufficient_credits_with_the_documents_message(account, typeset, sdk):
    client = sdk(account(credits=3).key)
    with pytest.raises(InsufficientCreditsError) as caught:
        client.images.generate(model=MODEL, prompt="A red barn")
    assert (caught.value.code, caught.value.status) == ("insufficient_credits", 402)
    assert caught.value.message == "Not enough credits to complete this generation. Required: 7, Available: 3"


def test_an_empty_prompt_raises_invalid_request(account, typeset, sdk):
    with pytest.raises(InvalidRequestError) as caught:
        sdk(account().key).images.generate(model=MODEL, prompt="")
    assert (caught.value.code, caught.value.status) == ("invalid_prompt", 400)


def test_an_unknown_task_raises_not_found(account, typeset, sdk):
    with pytest.raises(NotFoundError) as caught:
        sdk(account().key).images.get("img_doesnotexist")
    assert (caught.value.code, caught.value.status) == ("not_found", 404)


def test_a_generation_that_fails_raises_generation_failed_with_the_task(account, sdk):
    acct = account(credits=100)  # the default test catalog: "broken" always fails
    client = sdk(acct.key)
    submitted = client.images.generate(model="broken", prompt="A red barn", wait=False)
    render(submitted["task_id"])
    with pytest.raises(GenerationFailedError) as caught:
        client.images.wait(submitted["task_id"])
    assert caught.value.code == "generation_failed"
    assert caught.value.task["status"] == "failed" and caught.value.task["credits_refunded"] == 7
    assert ledger.balance(acct.user) == 100


def test_a_canceled_image_is_refunded_and_cannot_be_canceled_again(account, typeset, sdk):
    acct = account(credits=100)
    client = sdk(acct.key)
    task_id = client.images.generate(model=MODEL, prompt="A red barn", wait=False)["task_id"]
    canceled = client.images.cancel(task_id)
    assert (canceled["status"], canceled["credits_remaining"]) == ("canceled", 100)
    with pytest.raises(GenerationFailedError) as caught:
        client.images.wait(task_id)
    assert caught.value.code == "canceled"
    with pytest.raises(ConflictError) as again:
        client.images.cancel(task_id)
    assert (again.value.code, again.value.status) == ("not_cancelable", 409)


# --- Rate limits, idempotency, pagination on the real Studio -----------------------------------


def test_a_rate_limited_request_is_retried_after_retry_after(account, typeset, sdk, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "now", lambda: clock[0])
    waited: list[float] = []

    def sleep(seconds: float) -> None:  # the live server runs in this process: its clock moves too
        waited.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(seedance._transport, "sleep", sleep)
    acct = account(tier="free", credits=100)
    client, impatient = sdk(acct.key), sdk(acct.key, max_retries=0)
    for _ in range(10):
        clock[0] += 1
        client.account.credits()
    clock[0] += 1  # 11 s into the minute: the 11th request is refused until the minute ends

    with pytest.raises(RateLimitError) as caught:
        impatient.account.credits()
    assert (caught.value.code, caught.value.status, caught.value.retry_after) == ("rate_limited", 429, 49)
    assert "10 requests per minute" in caught.value.message

    assert client.account.credits()["tier"] == "free"
    assert waited == [49]


def test_the_same_idempotency_key_submits_and_charges_once(account, typeset, sdk):
    acct = account(credits=100)
    client = sdk(acct.key)
    first = client.images.generate(model=MODEL, prompt="A red barn", wait=False, idempotency_key="order-17")
    again = client.images.generate(model=MODEL, prompt="A red barn", wait=False, idempotency_key="order-17")
    other = client.images.generate(model=MODEL, prompt="A red barn", wait=False)
    assert first == again
    assert other["task_id"] != first["task_id"]
    assert ledger.balance(acct.user) == 100 - 14


def test_list_pages_with_a_cursor_and_iter_all_reads_every_page(account, typeset, sdk):
    client = sdk(account(credits=100).key)
    ids = [client.images.generate(model=MODEL, prompt=f"image {i}", wait=False)["task_id"] for i in range(5)]
    page = client.images.list(limit=2)
    assert [g["task_id"] for g in page["data"]] == ids[::-1][:2]
    assert page["has_more"] is True and page["next_cursor"]
    second = client.images.list(limit=2, cursor=page["next_cursor"], status="processing")
    assert [g["task_id"] for g in second["data"]] == ids[::-1][2:4]
    assert [g["task_id"] for g in client.images.iter_all(limit=2)] == ids[::-1]
    assert list(client.images.iter_all(status="completed")) == []


def test_credits_and_models(account, typeset, sdk):
    client = sdk(account(tier="starter", credits=1050).key)
    assert {k: client.account.credits()[k] for k in ("credits_remaining", "tier")} == {
        "credits_remaining": 1050,
        "tier": "starter",
    }
    assert [m["id"] for m in client.models.list()["data"]] == [MODEL]


# --- Progress as a stream, and cancelling a batch ----------------------------------------------


def test_stream_follows_a_real_render_across_reconnections_to_completed(worker, account, sdk, settings):
    # Streams end every 0.3 s, so the SDK reconnects with Last-Event-ID many times on the way.
    settings.STUDIO_EVENTS_POLL_SECONDS = 0.05
    settings.STUDIO_EVENTS_MAX_SECONDS = 0.3
    settings.STUDIO_EVENTS_RETRY_MS = 50
    client = sdk(account(credits=100).key)
    task_id = client.images.generate(model=MODEL, prompt="A red barn", deep_thinking=True, wait=False)["task_id"]

    events = list(client.images.stream(task_id))
    assert events[-1].event == "completed", worker.log()
    assert {e.event for e in events[:-1]} <= {"progress"}
    ids = [int(e.id) for e in events]
    assert ids == sorted(set(ids))  # each state once, in order, whatever the reconnections
    assert events[-1].data["image_url"] and events[-1].data["task_id"] == task_id
    assert list(client.images.stream(task_id, last_event_id=events[-1].id)) == []  # 204: nothing more


def test_cancel_batch_cancels_the_unfinished_items_and_its_stream_says_canceled(account, typeset, sdk, settings):
    settings.STUDIO_EVENTS_POLL_SECONDS = 0.05
    client = sdk(account(credits=100).key)
    submitted = client.images.batch_generate(generations=[{"model": MODEL, "prompt": "a"}] * 2, wait=False)
    reply = client.images.cancel_batch(submitted["batch_id"])
    assert reply["batch_id"] == submitted["batch_id"] and reply["counts"]["canceled"] == 2
    with pytest.raises(ConflictError):
        client.images.cancel_batch(submitted["batch_id"])  # nothing left to cancel
    events = list(client.images.stream_batch(submitted["batch_id"]))
    assert [e.event for e in events] == ["canceled"] and events[0].data["counts"]["canceled"] == 2
