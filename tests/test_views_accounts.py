"""Signup, login, logout and the password pages, through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import LedgerEntry, User
from generations.specs import SIGNUP_CREDITS

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
NEW_PASSWORD = "brand-new-pass-456"


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def signup_data(**overrides: str) -> dict[str, str]:
    return {
        "username": "ada",
        "email": "ada@example.com",
        "password1": "Analytical-Engine-1843",
        "password2": "Analytical-Engine-1843",
        **overrides,
    }


def field_errors(html: str, field: str) -> str:
    """The error list rendered beside `field` (by its id), or "" when there is none."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def test_signup_page_has_the_standard_fields(client):
    response = client.get(reverse("accounts:signup"))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in html
    assert "50 free credits" in html


def test_signup_creates_a_user_with_50_credits_in_one_ledger_entry_and_logs_in(client):
    response = client.post(reverse("accounts:signup"), signup_data(), follow=True)

    user = User.objects.get(username="ada")
    assert user.email == "ada@example.com"
    assert user.credits == SIGNUP_CREDITS == 50
    entries = list(LedgerEntry.objects.filter(user=user))
    assert [(e.kind, e.amount, e.balance_after) for e in entries] == [(LedgerEntry.Kind.SIGNUP, 50, 50)]
    assert response.redirect_chain[0] == (reverse("generations:studio"), 302)
    assert response.context["user"] == user
    messages = [str(m) for m in response.context["messages"]]
    assert any("50 free credits" in m for m in messages)


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [("/accounts/settings/keys", "/accounts/settings/keys"), ("https://evil.example/", "/"), ("//evil.example", "/")],
)
def test_signup_follows_next_only_within_the_site(client, next_url, lands_on):
    response = client.post(reverse("accounts:signup"), {**signup_data(), "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_bad_signup_shows_errors_beside_fields_and_creates_nothing(client, make_user):
    make_user("taken")
    response = client.post(
        reverse("accounts:signup"),
        signup_data(username="taken", email="not-an-email", password1="12345678", password2="different"),
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "already exists" in field_errors(html, "username")
    assert "valid email" in field_errors(html, "email")
    assert "didn\u2019t match" in field_errors(html, "password2")
    assert 'aria-invalid="true"' in html
    assert User.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SIGNUP).count() == 1
    assert "_auth_user_id" not in client.session


def test_signup_rejects_weak_passwords_with_djangos_validators(client):
    response = client.post(reverse("accounts:signup"), signup_data(password1="password", password2="password"))
    errors = field_errors(response.content.decode(), "password2")
    assert "too common" in errors
    assert not User.objects.exists()


def test_signup_rejects_an_email_already_used_in_any_case(client, make_user):
    user = make_user("grace")
    User.objects.filter(pk=user.pk).update(email="grace@example.com")
    response = client.post(reverse("accounts:signup"), signup_data(email="Grace@Example.com"))
    assert "already exists" in field_errors(response.content.decode(), "email")
    assert not User.objects.filter(username="ada").exists()


def test_login_with_username_or_email_follows_a_safe_next(client, make_user):
    user = make_user("lin")
    User.objects.filter(pk=user.pk).update(email="lin@example.com")
    url = reverse("accounts:login")

    response = client.post(url, {"username": "lin", "password": PASSWORD, "next": "/accounts/settings/credits"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/settings/credits"

    client.logout()
    response = client.post(url, {"username": "LIN@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("generations:studio")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_ignores_a_next_that_leaves_the_site(client, make_user):
    make_user("mo")
    response = client.post(
        reverse("accounts:login"), {"username": "mo", "password": PASSWORD, "next": "https://evil.example/steal"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("generations:studio")


def test_login_with_a_wrong_password_says_so_and_logs_no_one_in(client, make_user):
    make_user("kim")
    response = client.post(reverse("accounts:login"), {"username": "kim", "password": "wrong"})
    assert response.status_code == 200
    assert "don&#x27;t match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_keeps_next_in_the_form(client):
    response = client.get(reverse("accounts:login") + "?next=/accounts/settings/keys")
    assert 'name="next" value="/accounts/settings/keys"' in response.content.decode()


def test_logout_by_get_is_refused(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("accounts:logout"))
    assert response.status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_by_post_logs_out_and_needs_csrf(make_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user())
    assert strict.post(reverse("accounts:logout")).status_code == 403
    assert "_auth_user_id" in strict.session

    page = strict.get(reverse("accounts:keys"))  # the top bar's logout form carries the token
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = strict.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in strict.session


def test_settings_pages_require_login(client):
    for name in ("accounts:keys", "accounts:credits", "accounts:password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_password_change_needs_the_old_password_and_keeps_the_session(client, make_user):
    user = make_user("pat")
    client.force_login(user)
    url = reverse("accounts:password_change")

    wrong = client.post(url, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "incorrectly" in field_errors(wrong.content.decode(), "old_password")

    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1] == (url, 302)
    assert any("password is changed" in str(m) for m in response.context["messages"])
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(reverse("accounts:keys")).status_code == 200  # still logged in


def test_password_reset_mails_a_link_that_sets_a_new_password(client, make_user):
    user = make_user("rae")
    User.objects.filter(pk=user.pk).update(email="rae@example.com")

    response = client.post(reverse("accounts:password_reset"), {"email": "rae@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rae@example.com"]
    assert message.subject == "Reset your Studio password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", message.body).group(1)
    assert link in message.alternatives[0][0]  # the HTML part carries the same link

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    assert "Your new password is set" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)  # logged in with it
    assert client.get(link, follow=True).context["validlink"] is False  # the link works once


def test_password_reset_for_an_unknown_email_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_auth_pages_render_for_anonymous_visitors(client):
    for name in ("accounts:login", "accounts:signup", "accounts:password_reset", "accounts:password_reset_done"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert b'class="card auth-card"' in response.content
