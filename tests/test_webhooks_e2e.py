"""The whole path with a real `celery worker`: a submitted image's completion reaches the receiver."""

import json

import pytest
from standardwebhooks.webhooks import Webhook

from generations import services
from generations.models import WebhookDelivery
from generations.webhooks import signing as webhook_signing
from tests.conftest import wait_for
from tests.helpers import spec
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
