"""Login throttling: failed sign-ins counted per account and per address, refused before the password is checked."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import forms as auth_forms
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts import throttle
from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # make_user's
ADDRESS = "203.0.113.7"
LOGIN = reverse("accounts:login")


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """Move throttle's clock: clock.advance(seconds)."""
    start = throttle.now()

    class Clock:
        at = start

        def advance(self, seconds: float) -> None:
            self.at += seconds

    c = Clock()
    monkeypatch.setattr(throttle, "now", lambda: c.at)
    return c


def log_in(client, username: str, password: str, address: str = ADDRESS, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def fail(client, username: str, times: int, address: str = ADDRESS) -> None:
    for attempt in range(times):
        response = log_in(client, username, "wrong-password", address)
        assert response.status_code == 200, f"attempt {attempt + 1} of {username} was refused"
        assert "don&#x27;t match an account" in response.content.decode()


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_sixth_attempt_is_refused_with_429_and_the_wait_even_with_the_right_password(client, make_user, clock):
    make_user("kim")
    fail(client, "kim", throttle.FAILURES_PER_ACCOUNT)
    clock.advance(3.5 * 60)

    with mock.patch.object(auth_forms, "authenticate", wraps=auth_forms.authenticate) as authenticate:
        response = log_in(client, "kim", PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins for this account. Try again in 12 minutes." in response.content.decode()
    assert int(response["Retry-After"]) == 15 * 60 - 210
    authenticate.assert_not_called()  # refused without checking the password
    assert not is_logged_in(client)


def test_the_account_is_the_same_by_username_or_email_in_any_case(client, make_user):
    kim = make_user("kim")
    User.objects.filter(pk=kim.pk).update(email="kim@example.com")
    fail(client, "kim", 2)
    fail(client, "KIM@example.com", 2)
    fail(client, "Kim", 1)

    response = log_in(client, "kim@example.com", PASSWORD)

    assert response.status_code == 429
    assert "for this account" in response.content.decode()


def test_waiting_out_the_window_lets_the_account_in_again(client, make_user, clock):
    make_user("kim")
    fail(client, "kim", throttle.FAILURES_PER_ACCOUNT)
    clock.advance(14 * 60 + 30)
    refused = log_in(client, "kim", PASSWORD)
    assert refused.status_code == 429
    assert "Try again in 1 minute." in refused.content.decode()

    clock.advance(31)
    response = log_in(client, "kim", PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_successful_login_clears_the_accounts_count(client, make_user):
    make_user("kim")
    fail(client, "kim", throttle.FAILURES_PER_ACCOUNT - 1)
    assert log_in(client, "kim", PASSWORD).status_code == 302
    client.logout()

    fail(client, "kim", throttle.FAILURES_PER_ACCOUNT)  # a fresh allowance: none of these is refused
    assert log_in(client, "kim", PASSWORD).status_code == 429


def test_another_account_from_the_same_address_is_allowed_until_the_address_limit(client, make_user):
    make_user("kim")
    make_user("lou")
    make_user("max")
    fail(client, "kim", throttle.FAILURES_PER_ACCOUNT)
    assert log_in(client, "kim", PASSWORD).status_code == 429

    assert log_in(client, "lou", PASSWORD).status_code == 302  # lou is not kim
    client.logout()

    for n in range(throttle.FAILURES_PER_ADDRESS - throttle.FAILURES_PER_ACCOUNT):
        fail(client, f"guess{n % 5}-{n // 5}", 1)
    response = log_in(client, "max", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins from your network. Try again in 15 minutes." in response.content.decode()
    assert not is_logged_in(client)

    elsewhere = log_in(client, "max", PASSWORD, address="198.51.100.20")
    assert elsewhere.status_code == 302


def test_x_forwarded_for_does_not_make_a_fresh_address_by_default(client, make_user):
    make_user("max")
    for n in range(throttle.FAILURES_PER_ADDRESS):
        response = log_in(client, f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        assert response.status_code == 200

    response = log_in(client, "max", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_x_forwarded_for_is_read_when_a_setting_says_the_proxy_is_trusted(client, make_user, settings):
    settings.STUDIO_TRUST_X_FORWARDED_FOR = True
    make_user("max")
    for n in range(throttle.FAILURES_PER_ADDRESS):
        log_in(client, f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"spoofed, {ADDRESS}")

    assert log_in(client, "max", PASSWORD, HTTP_X_FORWARDED_FOR=f"anything, {ADDRESS}").status_code == 429
    assert log_in(client, "max", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 302


def test_an_empty_form_is_not_counted(client, make_user):
    make_user("kim")
    for _ in range(throttle.FAILURES_PER_ACCOUNT + 1):
        assert client.post(LOGIN, {"username": "kim", "password": ""}, REMOTE_ADDR=ADDRESS).status_code == 200

    assert log_in(client, "kim", PASSWORD).status_code == 302


def test_password_reset_requests_are_limited_per_address(client, make_user):
    url = reverse("accounts:password_reset")
    for _ in range(throttle.RESETS_PER_ADDRESS):
        assert client.post(url, {"email": "nobody@example.com"}, REMOTE_ADDR=ADDRESS).status_code == 302

    response = client.post(url, {"email": "rae@example.com"}, REMOTE_ADDR=ADDRESS)

    assert response.status_code == 429
    assert "Too many password reset requests from your network. Try again in 15 minutes." in response.content.decode()
    assert response["Retry-After"]
    assert mail.outbox == []
    assert client.post(url, {"email": "rae@example.com"}, REMOTE_ADDR="198.51.100.20").status_code == 302


def test_counters_are_kept_in_the_cache_with_an_expiry(clock):
    counted = [throttle.count(throttle.ACCOUNT, "kim") for _ in range(3)]

    assert counted == [1, 2, 3]
    base = throttle._base(throttle.ACCOUNT, "kim")
    assert "kim" not in base  # names are hashed into the key
    until = cache.get(f"{base}:until")
    assert until == pytest.approx(clock.at + throttle.WINDOW_SECONDS)
    assert cache.get(throttle._counter(base, until)) == 3

    throttle.clear(throttle.ACCOUNT, "kim")
    assert cache.get(f"{base}:until") is None and cache.get(throttle._counter(base, until)) is None
