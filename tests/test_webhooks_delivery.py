"""Delivering webhooks to a real HTTP receiver on loopback: signatures, retries, limits.

The receiver is pytest-httpserver; STUDIO_WEBHOOK_ALLOW_PRIVATE is on so that loopback
may receive (test_webhooks_guard covers what happens when it is off).
"""

import threading
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from werkzeug import Request, Response

from generations.models import WebhookDelivery
from generations.webhooks import delivery as webhook_delivery
from generations.webhooks import signing as webhook_signing
from tests.conftest import wait_for
from tests.webhook_support import (
    body_of,
    deliver,
    document_verify_webhook,
    finished_generation,
    make_due,
    use_fake_engine,
)


@pytest.fixture(autouse=True)
def _loopback_receivers(settings):
    use_fake_engine(settings, allow_private=True)


@pytest.fixture
def user(make_user):
    return make_user()


def recorded(user, httpserver, path="/hook", **spec_fields) -> WebhookDelivery:
    g = finished_generation(user, webhook_url=httpserver.url_for(path), **spec_fields)
    return WebhookDelivery.objects.get(generation=g)


def test_the_receiver_verifies_the_documents_hex_signature_over_the_raw_body(user, httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    delivery = recorded(user, httpserver, metadata={"project": "youtube-thumbnails", "note": "café ☕"})
    attempt = deliver(delivery)

    request, _ = httpserver.log[0]
    raw = request.get_data()
    assert raw == delivery.body.encode()  # byte for byte what was stored
    verify_webhook = document_verify_webhook()
    secret = webhook_signing.current_secret(user)
    assert verify_webhook(raw.decode(), request.headers["X-Seedance-Signature"], secret)
    assert not verify_webhook(raw.decode() + " ", request.headers["X-Seedance-Signature"], secret)
    assert body_of(request)["metadata"]["note"] == "café ☕"
    assert request.headers["Content-Type"] == "application/json"
    assert (attempt.status_code, attempt.succeeded, attempt.response_excerpt) == (200, True, "ok")
    assert (delivery.status, delivery.next_attempt_at) == ("succeeded", None)


def test_the_standard_webhooks_library_verifies_the_headers_with_the_same_secret(user, httpserver):
    httpserver.expect_oneshot_request("/hook").respond_with_data("")
    delivery = recorded(user, httpserver)
    deliver(delivery)

    request, _ = httpserver.log[0]
    secret = webhook_signing.current_secret(user)
    assert secret.startswith("whsec_")
    payload = Webhook(secret).verify(request.get_data(), dict(request.headers))
    assert payload["event"] == "image.completed" and payload["task_id"] == delivery.subject_id
    assert request.headers["webhook-id"] == delivery.public_id
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 300
    forged = {**dict(request.headers), "webhook-id": "msg_replayed_elsewhere"}
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(secret).verify(request.get_data(), forged)


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_try_with_the_same_id(user, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("still down", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("thanks", status=200)
    delivery = recorded(user, httpserver)

    first = deliver(delivery)
    assert (first.status_code, first.succeeded, delivery.status) == (500, False, "pending")
    assert "HTTP 500" in first.error and first.response_excerpt == "down"
    assert timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=5)
    make_due(delivery)
    deliver(delivery)
    assert delivery.next_attempt_at - timezone.now() > timedelta(minutes=4)  # the third step: 5 minutes
    make_due(delivery)
    third = deliver(delivery)

    httpserver.check_assertions()
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log]
    bodies = {request.get_data() for request, _ in httpserver.log}
    assert ids == [delivery.public_id] * 3 and len(bodies) == 1
    assert (third.number, third.status_code, delivery.status, delivery.attempt_count) == (3, 200, "succeeded", 3)
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [500, 500, 200]


def test_a_receiver_that_is_down_records_failed_attempts_and_stays_scheduled(user, httpserver):
    delivery = recorded(user, httpserver)
    httpserver.stop()  # the port is closed now: connections are refused
    try:
        attempt = deliver(delivery)
        make_due(delivery)
        second = deliver(delivery)
    finally:
        httpserver.start()
    assert attempt.status_code is None and "Could not connect" in attempt.error
    assert second.number == 2 and "Could not connect" in second.error
    assert delivery.status == "pending" and delivery.next_attempt_at > timezone.now()
    assert delivery.last_error == second.error and delivery.claimed_until is None


@override_settings(STUDIO_WEBHOOK_RETRY_SCHEDULE=[0, 0, 0])
def test_a_delivery_fails_for_good_when_the_schedule_is_used_up(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("no", status=503)
    delivery = recorded(user, httpserver)
    for _ in range(3):
        deliver(delivery)
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == ("failed", 3, None)
    assert deliver(delivery) is not None and delivery.attempt_count == 3  # nothing more is sent
    assert len(httpserver.log) == 3


def test_the_default_schedule_spans_about_a_day(settings):
    schedule = settings.STUDIO_WEBHOOK_RETRY_SCHEDULE
    assert schedule == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert timedelta(hours=20) < timedelta(seconds=sum(schedule)) < timedelta(hours=30)


def test_a_delivery_that_succeeded_or_is_not_yet_due_sends_nothing(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = recorded(user, httpserver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert webhook_delivery.deliver(delivery.pk) is None
    assert len(httpserver.log) == 0
    make_due(delivery)
    deliver(delivery)
    assert webhook_delivery.deliver(delivery.pk) is None
    assert len(httpserver.log) == 1


def test_an_attempt_claimed_by_another_worker_is_not_sent_again(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = recorded(user, httpserver)
    # Another worker won the claim for attempt 1 a moment ago and is sending it.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempt_count=1, claimed_until=timezone.now() + timedelta(seconds=60)
    )
    assert webhook_delivery.deliver(delivery.pk) is None
    assert len(httpserver.log) == 0


def test_redirects_are_not_followed(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=302, headers={"Location": "/elsewhere"})
    httpserver.expect_request("/elsewhere").respond_with_data("should not be reached")
    delivery = recorded(user, httpserver)
    attempt = deliver(delivery)
    assert [r.path for r, _ in httpserver.log] == ["/hook"]
    assert attempt.status_code == 302 and "Redirects are not followed" in attempt.error
    assert delivery.status == "pending"


def test_a_huge_response_is_read_only_in_part_and_kept_as_a_short_excerpt(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("x" * (5 * 1024 * 1024))
    delivery = recorded(user, httpserver)
    attempt = deliver(delivery)
    assert attempt.succeeded and attempt.response_excerpt == "x" * 1024


@override_settings(STUDIO_WEBHOOK_TIMEOUT_SECONDS=0.3)
def test_a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt(user, httpserver):
    released = threading.Event()

    def slow(request: Request) -> Response:
        released.wait(10)  # answers only after the test has seen the attempt time out
        return Response("late")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    delivery = recorded(user, httpserver)
    try:
        attempt = deliver(delivery)
    finally:
        released.set()
        # The server is single-threaded: let it finish before the next test uses it.
        wait_for(lambda: len(httpserver.log) == 1, message="the slow handler to finish")
    assert attempt.status_code is None and "Timed out" in attempt.error
    assert delivery.status == "pending"


def test_resend_sends_the_same_event_again_with_the_same_id_and_body(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = recorded(user, httpserver)
    deliver(delivery)
    webhook_delivery.resend(delivery)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    deliver(delivery)
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.public_id
    assert first.get_data() == second.get_data()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)


def test_the_sweeper_queues_overdue_deliveries_whose_task_was_lost(
    user, httpserver, django_capture_on_commit_callbacks
):
    from studio.celery import app

    httpserver.expect_request("/hook").respond_with_data("ok")
    lost = recorded(user, httpserver)
    long_ago = timezone.now() - timedelta(minutes=10)
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago, enqueued_at=long_ago)
    # A retry due later is left to its own countdown.
    later = recorded(user, httpserver, prompt="Another image")
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=2))

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_delivery.sweep_due() == 1
    finally:
        app.conf.task_always_eager = False
    lost.refresh_from_db()
    later.refresh_from_db()
    assert (lost.status, later.status) == ("succeeded", "pending")
    assert len(httpserver.log) == 1
    assert webhook_delivery.sweep_due() == 0


def test_a_resend_while_an_attempt_is_in_flight_is_refused_not_lost(user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    delivery = recorded(user, httpserver)
    # A worker has claimed the delivery and is waiting on the receiver.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=60), schedule_step=3, enqueued_at=None
    )
    assert webhook_delivery.resend(delivery) is False
    delivery.refresh_from_db()
    assert (delivery.schedule_step, delivery.enqueued_at) == (3, None)  # untouched: the attempt's result stands
    # Once the attempt has finished, the resend goes through.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=None, status="failed")
    assert webhook_delivery.resend(delivery) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.schedule_step) == ("pending", 0)
