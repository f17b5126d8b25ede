"""The webhooks settings page: secret, rotation, deliveries with their attempts, Resend."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generations.models import WebhookAttempt, WebhookDelivery
from generations.webhooks import signing as webhook_signing

PAGE = "/settings/webhooks"


def make_delivery(user, *, status="succeeded", event="image.completed", url="https://your-app.com/hook", attempts=()):
    delivery = WebhookDelivery.objects.create(
        user=user,
        event=event,
        url=url,
        subject_id="img_abc",
        body=json.dumps({"event": event, "task_id": "img_abc"}, separators=(",", ":")),
        status=status,
        attempt_count=len(attempts),
        next_attempt_at=None if status != "pending" else timezone.now() + timezone.timedelta(hours=1),
    )
    for number, (code, error, excerpt) in enumerate(attempts, start=1):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            status_code=code,
            duration_ms=42,
            succeeded=code is not None and 200 <= code < 300,
            error=error,
            response_excerpt=excerpt,
        )
    return delivery


@pytest.fixture
def client_for(make_user):
    def make(user=None):
        user = user or make_user()
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


def test_the_page_needs_a_login(db):
    response = Client().get(PAGE)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_page_shows_the_secret_and_is_never_cached(client_for):
    client = client_for()
    response = client.get(PAGE)
    assert response.status_code == 200
    secret = webhook_signing.current_secret(client.user)
    html = response.content.decode()
    assert f'value="{secret}"' in html and 'type="password"' in html
    assert "no-store" in response["Cache-Control"]
    assert reverse("webhooks:page") in html  # in the settings navigation
    assert "No deliveries yet" in html


def test_deliveries_are_listed_newest_first_with_their_attempts(client_for):
    client = client_for()
    older = make_delivery(client.user, attempts=[(500, "The receiver answered HTTP 500", "oops"), (200, "", "ok")])
    newer = make_delivery(
        client.user, status="failed", event="image.failed", attempts=[(None, "Could not connect", "")]
    )
    html = client.get(PAGE).content.decode()
    assert html.index(newer.public_id) < html.index(older.public_id)
    assert "The receiver answered HTTP 500" in html and "Could not connect" in html
    assert "42 ms" in html and ">oops</pre>" in html


def test_the_status_filter_shows_only_that_status_and_htmx_gets_the_list_alone(client_for):
    client = client_for()
    ok = make_delivery(client.user)
    bad = make_delivery(client.user, status="failed")
    html = client.get(PAGE, {"status": "failed"}).content.decode()
    assert bad.public_id in html and ok.public_id not in html
    fragment = client.get(PAGE, {"status": "succeeded"}, headers={"HX-Request": "true", "HX-Target": "deliveries"})
    text = fragment.content.decode()
    assert ok.public_id in text and bad.public_id not in text
    assert "<html" not in text and "Signing secret" not in text


def test_load_older_pages_by_id(client_for, monkeypatch):
    from generations.webhooks import events as webhooks

    monkeypatch.setattr(webhooks, "PAGE_SIZE", 2)
    client = client_for()
    made = [make_delivery(client.user) for _ in range(3)]
    first = client.get(PAGE).content.decode()
    assert made[2].public_id in first and made[0].public_id not in first
    more = client.get(PAGE, {"before": made[1].pk}, headers={"HX-Request": "true", "HX-Target": "deliveries-more"})
    assert made[0].public_id in more.content.decode() and "every delivery" in more.content.decode()


def test_resend_queues_the_same_delivery_again(client_for):
    client = client_for()
    delivery = make_delivery(client.user, status="failed", attempts=[(None, "Could not connect", "")])
    response = client.post(reverse("webhooks:resend", args=[delivery.public_id]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at <= timezone.now()
    assert delivery.schedule_step == 0 and WebhookDelivery.objects.count() == 1
    assert "same <code>webhook-id</code>" in response.content.decode()


def test_resend_without_javascript_redirects_back_to_the_page(client_for):
    client = client_for()
    delivery = make_delivery(client.user, status="failed")
    response = client.post(reverse("webhooks:resend", args=[delivery.public_id]))
    assert response.status_code == 302 and response["Location"].endswith(f"#delivery-{delivery.public_id}")


def test_resend_needs_post_and_a_csrf_token(client_for):
    client = client_for()
    delivery = make_delivery(client.user, status="failed")
    url = reverse("webhooks:resend", args=[delivery.public_id])
    assert client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(client.user)
    assert strict.post(url).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_another_users_delivery_is_404_everywhere(client_for, make_user):
    theirs = make_delivery(make_user())
    client = client_for()
    assert client.post(reverse("webhooks:resend", args=[theirs.public_id])).status_code == 404
    assert client.get(reverse("webhooks:delivery", args=[theirs.public_id])).status_code == 404
    assert theirs.public_id not in client.get(PAGE).content.decode()
    theirs.refresh_from_db()
    assert theirs.status == "succeeded"


def test_rotating_from_the_page_shows_the_new_secret_and_the_overlap(client_for):
    client = client_for()
    old = webhook_signing.current_secret(client.user)
    confirm = client.get(reverse("webhooks:rotate"))
    assert confirm.status_code == 200 and "Rotate the signing secret?" in confirm.content.decode()
    response = client.post(reverse("webhooks:rotate"), headers={"HX-Request": "true"})
    new = webhook_signing.current_secret(client.user)
    html = response.content.decode()
    assert new != old and f'value="{new}"' in html and old not in html
    assert "Previous secret signs until" in html
    assert webhook_signing.signing_secrets(client.user) == [new, old]


def test_a_pending_delivery_due_now_polls_and_a_finished_one_does_not(client_for):
    client = client_for()
    due = make_delivery(client.user, status="pending")
    WebhookDelivery.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now())
    done = make_delivery(client.user)
    row = client.get(reverse("webhooks:delivery", args=[due.public_id])).content.decode()
    assert "hx-trigger" in row and "Sending" in row
    row = client.get(reverse("webhooks:delivery", args=[done.public_id])).content.decode()
    assert "hx-trigger" not in row
