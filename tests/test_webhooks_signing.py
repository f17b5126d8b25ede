"""Signing secrets: format, encryption at rest, rotation with a 24-hour overlap, the command."""

import base64
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from generations.models import WebhookDelivery, WebhookSecret
from generations.webhooks import signing as webhook_signing
from tests.webhook_support import deliver, document_verify_webhook, finished_generation, use_fake_engine


@pytest.fixture(autouse=True)
def _loopback_receivers(settings):
    use_fake_engine(settings, allow_private=True)


def test_a_secret_is_whsec_and_base64_of_random_bytes_and_differs_per_account(make_user):
    first, second = webhook_signing.current_secret(make_user()), webhook_signing.current_secret(make_user())
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 24


def test_the_secret_is_stored_encrypted_and_stays_the_same_between_reads(make_user):
    user = make_user()
    secret = webhook_signing.current_secret(user)
    stored = WebhookSecret.objects.get(user=user).encrypted
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert webhook_signing.current_secret(user) == secret


def test_a_new_django_secret_key_still_reads_secrets_through_the_fallbacks(make_user, settings):
    user = make_user()
    secret = webhook_signing.current_secret(user)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-key-" + "y" * 40
    with pytest.raises(webhook_signing.SecretUnreadable):
        webhook_signing.current_secret(user)
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert webhook_signing.current_secret(user) == secret


def test_both_signatures_verify_with_the_one_secret_string():
    secret = webhook_signing.new_secret()
    body = b'{"event":"image.completed","task_id":"img_1"}'
    headers = webhook_signing.signature_headers("msg_1", int(timezone.now().timestamp()), body, [secret])
    assert document_verify_webhook()(body.decode(), headers["X-Seedance-Signature"], secret)
    assert Webhook(secret).verify(body, headers) == {"event": "image.completed", "task_id": "img_1"}


def test_after_a_rotation_both_secrets_sign_for_24_hours_and_the_hex_header_uses_the_new_one(make_user, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    user = make_user()
    old = webhook_signing.current_secret(user)
    new = webhook_signing.rotate_secret(user)
    assert new != old and webhook_signing.current_secret(user) == new
    g = finished_generation(user, webhook_url=httpserver.url_for("/hook"))
    deliver(WebhookDelivery.objects.get(generation=g))

    request, _ = httpserver.log[0]
    raw, headers = request.get_data(), dict(request.headers)
    assert len(headers["Webhook-Signature"].split(" ")) == 2
    assert Webhook(old).verify(raw, headers) and Webhook(new).verify(raw, headers)
    verify_webhook = document_verify_webhook()
    assert verify_webhook(raw.decode(), headers["X-Seedance-Signature"], new)
    assert not verify_webhook(raw.decode(), headers["X-Seedance-Signature"], old)
    # A receiver that has not switched yet checks the old secret's hex signature beside it.
    assert verify_webhook(raw.decode(), headers["X-Seedance-Signature-Previous"], old)


def test_the_old_secret_stops_signing_once_the_overlap_ends(make_user):
    user = make_user()
    old = webhook_signing.current_secret(user)
    new = webhook_signing.rotate_secret(user)
    assert webhook_signing.signing_secrets(user) == [new, old]
    later = timezone.now() + timedelta(hours=24, seconds=1)
    assert webhook_signing.signing_secrets(user, at=later) == [new]
    body = b"{}"
    headers = webhook_signing.signature_headers("msg_1", int(timezone.now().timestamp()), body, [new])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    assert "X-Seedance-Signature-Previous" not in headers


def test_rotating_twice_keeps_only_the_two_newest_secrets(make_user):
    user = make_user()
    webhook_signing.current_secret(user)
    second = webhook_signing.rotate_secret(user)
    third = webhook_signing.rotate_secret(user)
    assert webhook_signing.signing_secrets(user) == [third, second]


def test_the_command_prints_only_the_secret(make_user):
    user = make_user("scripter")
    out = StringIO()
    call_command("webhooksecret", "--user", "scripter", stdout=out)
    assert out.getvalue() == webhook_signing.current_secret(user) + "\n"


def test_the_command_rotates_and_prints_only_the_new_secret(make_user):
    user = make_user("rotator")
    old = webhook_signing.current_secret(user)
    out, err = StringIO(), StringIO()
    call_command("webhooksecret", "--user", "rotator", "--rotate", stdout=out, stderr=err)
    new = out.getvalue().strip()
    assert out.getvalue() == new + "\n" and new.startswith("whsec_") and new != old
    assert webhook_signing.signing_secrets(user) == [new, old]
    assert "24 hours" in err.getvalue()


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("webhooksecret", "--user", "nobody", stdout=StringIO())
