"""The whole path with a real `celery worker`: a submitted image's completion reaches the receiver."""

import json
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from generations import services
from generations.models import WebhookDelivery
from generations.webhooks import signing as webhook_signing
from tests.conftest import wait_for
from tests.helpers import spec, studio_file_links
from tests.webhook_support import FAKE_MODELS, document_verify_webhook, use_fake_engine

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_delivers_the_completion_and_retries_a_failed_attempt(
    make_user, start_worker, httpserver, settings
):
    use_fake_engine(settings, allow_private=True)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    worker = start_worker(
        STUDIO_MODELS_JSON=json.dumps(FAKE_MODELS),
        STUDIO_WEBHOOK_ALLOW_PRIVATE="1",
        STUDIO_WEBHOOK_RETRY_SCHEDULE="0,1",
    )
    user = make_user()
    g = services.submit(user=user, spec=spec(webhook_url=httpserver.url_for("/hook"))).generations[0]

    wait_for(
        lambda: WebhookDelivery.objects.filter(generation=g, status="succeeded").exists(),
        timeout=60,
        message=f"the webhook to be delivered; worker log:\n{worker.log()}",
    )
    httpserver.check_assertions()
    (first, _), (second, _) = httpserver.log
    secret = webhook_signing.current_secret(user)
    payload = Webhook(secret).verify(second.get_data(), dict(second.headers))
    assert (payload["event"], payload["task_id"], payload["status"]) == ("image.completed", g.public_id, "completed")
    assert document_verify_webhook()(second.get_data().decode(), second.headers["X-Seedance-Signature"], secret)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    delivery = WebhookDelivery.objects.get(generation=g)
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [503, 200]


@studio_file_links
def test_the_links_a_receiver_gets_point_at_the_server_that_was_asked(account, start_worker, httpserver, settings):
    """Submitted over HTTP to a live server on a random port: the webhook's link is that server's, and works."""
    use_fake_engine(settings, allow_private=True)
    settings.STUDIO_PUBLIC_URL = ""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(FAKE_MODELS), STUDIO_WEBHOOK_ALLOW_PRIVATE="1")
    acct = account()
    submitted = acct.http.post(
        "/images/generate",
        json={"model": "seedream-5.0-lite", "prompt": "A red barn", "webhook_url": httpserver.url_for("/hook")},
    )
    assert submitted.status_code == 200, submitted.text

    wait_for(
        lambda: WebhookDelivery.objects.filter(
            generation__public_id=submitted.json()["task_id"], status="succeeded"
        ).exists(),
        timeout=60,
        message=f"the webhook to be delivered; worker log:\n{worker.log()}",
    )
    ((request, _),) = httpserver.log
    payload = json.loads(request.get_data())
    server = urlsplit(str(acct.http.base_url))
    for link in (payload["image_url"], payload["image_url_webp"]):
        assert urlsplit(link)[:2] == (server.scheme, server.netloc), link
    with httpx.Client(timeout=30) as receiver:
        assert receiver.get(payload["image_url"]).content[:8] == b"\x89PNG\r\n\x1a\n"
