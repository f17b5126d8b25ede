"""Accounts in a real browser: sign up through the form, an API key's whole life, the ledger.

The key is created in the settings page, read off the page as a person would copy it,
used over real HTTP against the live server's `/v1/account/credits`, revoked through
the confirmation dialog, and then refused with the document's error envelope.
"""

from __future__ import annotations

import httpx
import pytest
from django.db import transaction
from playwright.sync_api import expect

from accounts import ledger
from accounts.models import ApiKey, LedgerEntry, User
from accounts.selectors import LEDGER_PAGE_SIZE

pytestmark = pytest.mark.browser


def credits_call(base_url: str, key: str) -> httpx.Response:
    """The document's "Testing Authentication" curl, as httpx."""
    return httpx.get(f"{base_url}/v1/account/credits", headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_sign_up_through_the_form_lands_in_the_studio_with_50_credits(live_server, page):
    base = live_server.url
    page.goto(f"{base}/accounts/signup")
    page.fill("input[name=username]", "ines")
    page.fill("input[name=email]", "ines@example.com")
    page.fill("input[name=password1]", "short")
    page.fill("input[name=password2]", "short")
    page.click("form.auth-form button[type=submit]")
    expect(page.locator("#id_password2_error")).to_contain_text("too short")
    assert not User.objects.filter(username="ines").exists()

    page.fill("input[name=password1]", "Tulips-in-April-2026")
    page.fill("input[name=password2]", "Tulips-in-April-2026")
    page.click("form.auth-form button[type=submit]")

    page.wait_for_url(f"{base}/")
    expect(page.locator(".toast")).to_contain_text("You have 50 free credits")
    expect(page.locator("#credits-pill")).to_contain_text("50")
    user = User.objects.get(username="ines")
    assert list(user.ledger.values_list("kind", "amount")) == [(LedgerEntry.Kind.SIGNUP, 50)]

    page.click("button:has-text('Log out')")
    page.wait_for_url(f"{base}/accounts/login")
    expect(page.locator(".toast")).to_contain_text("logged out")
    page.fill("input[name=username]", "ines@example.com")
    page.fill("input[name=password]", "Tulips-in-April-2026")
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")
    expect(page.locator("#credits-pill")).to_contain_text("50")


def test_api_key_is_created_used_revoked_and_then_refused(live_server, page, log_in, make_user):
    base = live_server.url
    user = make_user("api-dev", tier="starter", credits=1050)
    log_in(page.context, user)

    page.goto(f"{base}/accounts/settings/keys")
    expect(page.locator("#api-base-url")).to_have_value(f"{base}/v1")
    page.fill("input[name=name]", "Integration test")
    page.click("button:has-text('Create key')")
    key_field = page.locator("#new-key-value")
    expect(key_field).to_be_visible()
    raw = key_field.input_value()
    assert raw.startswith("sk_")
    expect(page.locator("#new-key-curl")).to_contain_text(f"export KEY={raw}")
    expect(page.locator("#new-key-curl")).to_contain_text("Bearer $KEY")

    response = credits_call(base, raw)
    assert response.status_code == 200, response.text
    body = response.json()  # the document's fields; extensions such as "limits" may ride along
    assert (body["credits_remaining"], body["tier"]) == (1050, "starter")

    page.reload()  # the key is never shown again, and its use is now on record
    expect(page.locator("#new-key-value")).to_have_count(0)
    assert raw not in page.content()
    key = ApiKey.objects.get(user=user)
    row = page.locator(f"#key-{key.pk}")
    expect(row.locator("[data-label='Last used']")).not_to_contain_text("never")

    row.locator("text=Revoke…").click()
    dialog = page.locator(f"#revoke-dialog-{key.pk}")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("stop working at once")
    dialog.locator("button:has-text('Revoke key')").click()
    expect(page.locator("#keys-panel .callout-success")).to_contain_text("Revoked “Integration test”")
    expect(page.locator(f"#key-{key.pk}.is-revoked")).to_be_attached()

    refused = credits_call(base, raw)
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["status"] == 401
    assert error["message"]


def test_keys_work_without_javascript_through_the_confirmation_page(live_server, make_context, log_in, make_user):
    context = make_context(java_script_enabled=False)
    page = context.new_page()
    user = make_user("no-js")
    log_in(context, user)
    base = live_server.url

    page.goto(f"{base}/accounts/settings/keys")
    page.fill("input[name=name]", "Plain HTML")
    page.click("button:has-text('Create key')")
    raw = page.locator("#new-key-value").input_value()
    key = ApiKey.objects.get(user=user)
    assert key.key_hash != raw and raw.startswith(key.prefix)

    page.goto(f"{base}/accounts/settings/keys")
    page.click(f"#key-{key.pk} >> text=Revoke…")
    page.wait_for_url(f"{base}/accounts/settings/keys/{key.pk}/revoke")
    key.refresh_from_db()
    assert key.is_active
    page.click("button:has-text('Revoke key')")
    page.wait_for_url(f"{base}/accounts/settings/keys")
    expect(page.locator(".toast")).to_contain_text("Revoked “Plain HTML”")
    key.refresh_from_db()
    assert not key.is_active


def test_ledger_load_more_appends_older_entries_in_place(live_server, page, log_in, make_user):
    user = make_user("ledger-reader")
    with transaction.atomic():
        for i in range(LEDGER_PAGE_SIZE + 3):
            ledger.grant(user=user, amount=1, note=f"bonus {i}")
    log_in(page.context, user)

    page.goto(f"{live_server.url}/accounts/settings/credits")
    rows = page.locator(".ledger-table tr.ledger-row")
    expect(rows).to_have_count(LEDGER_PAGE_SIZE)
    page.click("text=Load older entries")
    expect(rows).to_have_count(LEDGER_PAGE_SIZE + 4)  # the 3 oldest grants and the signup grant
    expect(rows.last).to_contain_text("Welcome credits")
    expect(page.locator(".ledger-end")).to_contain_text("That's everything")
    assert page.url == f"{live_server.url}/accounts/settings/credits"
