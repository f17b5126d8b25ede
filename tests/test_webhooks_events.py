"""Which events are recorded, what their bodies say, and the document's Flask handler receiving them."""

import json
import threading
from datetime import datetime

import pytest
from django.db import transaction
from werkzeug.serving import make_server

from generations import services
from generations.models import Batch, Generation, WebhookDelivery
from generations.worker import render as pipeline
from generations.worker import sweep
from tests.helpers import assert_image_link, spec, studio_file_links
from tests.webhook_support import (
    DOCUMENT,
    FLASK_HANDLER,
    VERIFY_WEBHOOK,
    body_of,
    deliver,
    finished_generation,
    use_fake_engine,
)

DOCUMENT_FIELDS = ["event", "task_id", "status", "image_url", "model", "credits_charged", "metadata", "created_at"]


@pytest.fixture(autouse=True)
def _loopback_receivers(settings):
    use_fake_engine(settings, allow_private=True)


def test_the_receiver_code_copied_here_is_the_documents_verbatim():
    if not DOCUMENT.exists():
        pytest.skip("the product document is not beside this checkout")
    text = DOCUMENT.read_text()
    assert VERIFY_WEBHOOK in text
    assert FLASK_HANDLER in text


def test_a_completed_image_event_has_the_documents_fields(make_user, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    user = make_user()
    g = finished_generation(user, webhook_url="https://your-app.com/webhook/image-complete", metadata={"project": "p"})
    delivery = WebhookDelivery.objects.get(generation=g)
    payload = json.loads(delivery.body)
    assert list(payload)[: len(DOCUMENT_FIELDS)] == DOCUMENT_FIELDS
    assert payload["event"] == delivery.event == "image.completed"
    assert (payload["task_id"], payload["status"], payload["model"]) == (g.public_id, "completed", "seedream-5.0-lite")
    assert (payload["credits_charged"], payload["metadata"]) == (7, {"project": "p"})
    assert_image_link(payload["image_url"], "https://studio.example.com")
    assert ".png" in payload["image_url"] and ".webp" in payload["image_url_webp"]
    assert (payload["width"], payload["height"], payload["seed"]) == (1024, 1024, g.seed)
    assert datetime.strptime(payload["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert "batch_id" not in payload and "error" not in payload
    assert delivery.url == "https://your-app.com/webhook/image-complete"
    assert delivery.body.isascii() and delivery.status == "pending" and delivery.public_id.startswith("msg_")


@studio_file_links
def test_image_links_fall_back_to_the_configured_base_url(make_user, settings):
    settings.STUDIO_PUBLIC_URL = ""
    g = finished_generation(make_user(), webhook_url="https://your-app.com/hook")
    payload = json.loads(WebhookDelivery.objects.get(generation=g).body)
    assert payload["image_url"].startswith(settings.STUDIO_WEBHOOK_LINK_BASE_URL + "/files/")


def test_a_failed_generation_sends_image_failed_with_its_error(make_user, settings):
    settings.STUDIO_MODELS = {"seedream-5.0-lite": {"engine": "fake", "options": {"fail": "permanent"}}}
    g = finished_generation(make_user(), webhook_url="https://your-app.com/hook")
    payload = json.loads(WebhookDelivery.objects.get(generation=g).body)
    assert (payload["event"], payload["status"], payload["image_url"]) == ("image.failed", "failed", None)
    assert "told to fail" in payload["error"] and payload["credits_refunded"] == 7


def test_a_canceled_generation_sends_image_failed_with_status_canceled(make_user):
    g = services.submit(user=make_user(), spec=spec(webhook_url="https://your-app.com/hook")).generations[0]
    services.cancel(user=g.user, generation=g)
    payload = json.loads(WebhookDelivery.objects.get(generation=g).body)
    assert (payload["event"], payload["status"]) == ("image.failed", "canceled")
    assert payload["error"] == "Canceled by request."


def test_no_webhook_url_records_no_delivery(make_user):
    finished_generation(make_user())
    assert not WebhookDelivery.objects.exists()


def test_a_finish_that_rolls_back_records_no_delivery(make_user):
    g = services.submit(user=make_user(), spec=spec(webhook_url="https://your-app.com/hook")).generations[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        services.cancel(user=g.user, generation=g)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the surrounding change failed")
    assert not WebhookDelivery.objects.exists()
    assert Generation.objects.get(pk=g.pk).status == "processing"


def test_a_batch_of_three_sends_three_image_events_and_one_batch_completed(make_user, httpserver):
    httpserver.expect_request("/batch").respond_with_data("ok")
    user = make_user(tier="pro", credits=1000)
    url = httpserver.url_for("/batch")
    submitted = services.submit_batch(user=user, specs_=[spec(), spec(), spec()], webhook_url=url)
    for g in submitted.generations:
        pipeline.render(g.pk)
    batch = Batch.objects.get()
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    for delivery in deliveries:
        deliver(delivery)

    events = [body_of(request) for request, _ in httpserver.log]
    assert sorted(e["event"] for e in events) == ["batch.completed"] + ["image.completed"] * 3
    images = [e for e in events if e["event"] == "image.completed"]
    assert {e["batch_id"] for e in images} == {batch.public_id}
    assert {e["task_id"] for e in images} == {g.public_id for g in submitted.generations}
    (summary,) = [e for e in events if e["event"] == "batch.completed"]
    assert (summary["batch_id"], summary["status"], summary["total_generations"]) == (batch.public_id, "completed", 3)
    assert summary["counts"] == {"completed": 3, "failed": 0, "canceled": 0}
    assert [r["index"] for r in summary["results"]] == [0, 1, 2]
    assert all(r["status"] == "completed" and r["image_url"] and r["error"] is None for r in summary["results"])
    assert [r["task_id"] for r in summary["results"]] == [g.public_id for g in submitted.generations]
    assert all(d.status == "succeeded" for d in WebhookDelivery.objects.all())
    # The batch sweeper closing it again sends nothing more.
    sweep.sweep()
    assert WebhookDelivery.objects.count() == 4


def test_a_batch_item_with_its_own_url_gets_its_image_event_there(make_user):
    user = make_user(tier="pro", credits=1000)
    specs_ = [spec(webhook_url="https://a.example/own"), spec()]
    submitted = services.submit_batch(user=user, specs_=specs_, webhook_url="https://b.example/batch")
    for g in submitted.generations:
        pipeline.render(g.pk)
    urls = sorted((d.event, d.url) for d in WebhookDelivery.objects.all())
    assert urls == [
        ("batch.completed", "https://b.example/batch"),
        ("image.completed", "https://a.example/own"),
        ("image.completed", "https://b.example/batch"),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_documents_flask_handler_receives_the_event_and_saves_the_image(
    make_user, live_server, settings, tmp_path, monkeypatch, capsys
):
    """The document's handler, run verbatim in Flask on loopback, downloads the image from Studio."""
    settings.STUDIO_PUBLIC_URL = live_server.url
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images" / "youtube-thumbnails").mkdir(parents=True)
    saved: list[tuple[str, str]] = []
    namespace = {"__name__": "document_handler", "update_generation_record": lambda *args: saved.append(args)}
    exec(FLASK_HANDLER, namespace)
    server = make_server("127.0.0.1", 0, namespace["app"], threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhook/image-complete"
        g = finished_generation(make_user(), webhook_url=url, metadata={"project": "youtube-thumbnails"})
        attempt = deliver(WebhookDelivery.objects.get(generation=g))
    finally:
        server.shutdown()
        thread.join(5)

    assert attempt.status_code == 200 and json.loads(attempt.response_excerpt) == {"status": "ok"}
    filename = f"images/youtube-thumbnails/{g.public_id}.png"
    assert saved == [(g.public_id, filename)]
    assert (tmp_path / filename).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Image saved: {filename}" in capsys.readouterr().out


def test_a_finished_generation_records_exactly_one_delivery(make_user):
    finished_generation(make_user(), webhook_url="https://your-app.com/hook")
    assert WebhookDelivery.objects.count() == 1
