"""The settings pages: API keys (shown once, revocable, private) and credits (balance, tiers, ledger)."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts import ledger, services
from accounts.models import ApiKey, LedgerEntry, hash_key
from accounts.selectors import LEDGER_PAGE_SIZE
from generations import services as generation_services
from generations.models import Generation
from tests.helpers import spec

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r'id="new-key-value" value="(sk_[^"]+)"')


def ledger_kinds(html: str) -> list[str]:
    """The kind of each ledger row in the page, in order."""
    return re.findall(r'<tr class="ledger-row" data-kind="(\w+)">', html)


def all_db_text() -> str:
    """Every text value in every table, to prove a secret is stored nowhere."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # table names come from the schema
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


@pytest.fixture
def user(client, make_user):
    user = make_user("owner")
    client.force_login(user)
    return user


# --- API keys -------------------------------------------------------------------------


def test_creating_a_key_shows_it_once_and_stores_only_its_hash(client, user):
    response = client.post(reverse("accounts:keys"), {"name": "Production server"})
    html = response.content.decode()

    assert response.status_code == 200
    raw = KEY_RE.search(html).group(1)
    assert "will never show it again" in html
    assert f"export KEY={raw}" in html  # the curl sample uses the new key
    assert "no-store" in response["Cache-Control"]
    assert 'hx-history="false"' in html  # nor in htmx's history cache
    key = ApiKey.objects.get(user=user)
    assert key.name == "Production server"
    assert key.key_hash == hash_key(raw)
    assert raw.startswith(key.prefix)
    assert raw not in all_db_text()

    later = client.get(reverse("accounts:keys")).content.decode()
    assert raw not in later
    assert "Production server" in later
    assert f"{key.prefix}…" in later
    assert "never" in later  # last used


def test_a_created_key_authenticates_and_its_last_use_is_shown(client, user):
    html = client.post(reverse("accounts:keys"), {"name": "laptop"}).content.decode()
    raw = KEY_RE.search(html).group(1)
    assert services.authenticate_api_key(raw).user == user
    page = client.get(reverse("accounts:keys")).content.decode()
    assert re.search(r'data-label="Last used"><time[^>]*>now</time>', page)


def test_a_key_needs_a_name(client, user):
    response = client.post(reverse("accounts:keys"), {"name": "   "})
    html = response.content.decode()
    assert 'id="id_name_error"' in html
    assert "new-key-value" not in html
    assert not ApiKey.objects.exists()


def test_htmx_create_answers_with_the_panel_only(client, user):
    response = client.post(reverse("accounts:keys"), {"name": "ci"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="keys-panel"' in html
    assert "<html" not in html
    assert KEY_RE.search(html)


def test_revoking_asks_for_confirmation_then_revokes(client, user):
    key, raw = services.create_api_key(user=user, name="old script")
    url = reverse("accounts:revoke_key", args=[key.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Revoke “old script”?" in confirm.content.decode()
    key.refresh_from_db()
    assert key.is_active  # looking at the confirmation changes nothing

    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:keys")
    key.refresh_from_db()
    assert not key.is_active
    assert services.authenticate_api_key(raw) is None
    html = response.content.decode()
    assert "Revoked “old script”" in html
    assert re.search(r'class="is-revoked".*?old script.*?Revoked', html, re.S)


def test_htmx_revoke_answers_with_the_panel_and_a_notice(client, user):
    key, _ = services.create_api_key(user=user, name="bot")
    response = client.post(reverse("accounts:revoke_key", args=[key.pk]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'role="status">Revoked “bot”' in html
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_revoke_by_get_changes_nothing(client, user):
    key, _ = services.create_api_key(user=user, name="k")
    client.get(reverse("accounts:revoke_key", args=[key.pk]))
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_another_users_key_is_not_found_and_not_listed(client, user, make_user):
    other_key, _ = services.create_api_key(user=make_user("stranger"), name="stranger's secret key")
    url = reverse("accounts:revoke_key", args=[other_key.pk])

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert ApiKey.objects.get(pk=other_key.pk).is_active
    page = client.get(reverse("accounts:keys")).content.decode()
    assert "stranger" not in page
    assert other_key.prefix not in page


def test_keys_page_shows_the_api_base_url_and_a_curl_example(client, user):
    html = client.get(reverse("accounts:keys")).content.decode()
    assert 'value="http://testserver/v1"' in html
    assert "export KEY=sk_..." in html
    assert 'curl -H "Authorization: Bearer $KEY" http://testserver/v1/account/credits' in html
    assert 'href="/v1/docs"' in html


def test_keys_page_uses_the_public_url_when_configured(client, user, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    html = client.get(reverse("accounts:keys")).content.decode()
    assert 'value="https://studio.example.com/v1"' in html


# --- Credits --------------------------------------------------------------------------


def test_credits_page_shows_balance_tier_limits_price_and_the_tier_table(client, make_user):
    user = make_user("pro-user", tier="pro", credits=1050)
    client.force_login(user)
    html = client.get(reverse("accounts:credits")).content.decode()

    assert 'data-balance="1050"' in html
    assert "enough for 150 images" in html  # 1050 // 7
    text = re.sub(r"<[^>]+>", "", html)
    assert "120 requests/min · 20 at once · batches of 50" in text
    current = re.search(r'<tr class="is-current" aria-current="true">(.*?)</tr>', html, re.S).group(1)
    assert "Pro" in current and "Your tier" in current
    for label in ("Free", "Starter", "Popular", "Pro", "Enterprise"):
        assert f'<th scope="row">{label}' in html
    assert "Every image costs 7 credits" in html


def test_credits_page_lists_grants_charges_and_refunds_with_their_generations(client, user):
    kept = generation_services.submit(user=user, spec=spec(prompt="Lighthouse at dusk")).generations[0]
    deleted = generation_services.submit(user=user, spec=spec(prompt="A second try")).generations[0]
    with transaction.atomic():
        ledger.refund(generation=kept, note="Render failed: refunded")
    deleted_id = deleted.public_id
    Generation.objects.filter(pk=deleted.pk).delete()

    html = client.get(reverse("accounts:credits")).content.decode()

    assert ledger_kinds(html) == ["refund", "charge", "charge", "signup"]  # newest first
    assert "+50" in html and "\u22127" in html and "+7" in html  # a true minus sign
    assert reverse("generations:image", args=[kept.public_id]) in html
    assert f"{deleted_id} (deleted)" in html
    assert reverse("generations:image", args=[deleted_id]) not in html
    assert "Lighthouse at dusk" in html
    assert "Render failed: refunded" in html


def test_credits_page_never_shows_another_users_entries(client, user, make_user):
    stranger = make_user("stranger")
    with transaction.atomic():
        ledger.grant(user=stranger, amount=999, note="stranger bonus")
    html = client.get(reverse("accounts:credits")).content.decode()
    assert "stranger bonus" not in html
    assert "+999" not in html
    assert ledger_kinds(html) == ["signup"]


def test_ledger_pages_by_cursor_and_htmx_load_more_returns_only_rows(client, user):
    with transaction.atomic():
        for i in range(LEDGER_PAGE_SIZE + 5):
            ledger.grant(user=user, amount=1, note=f"bonus {i}")
    url = reverse("accounts:credits")

    first = client.get(url).content.decode()
    assert len(ledger_kinds(first)) == LEDGER_PAGE_SIZE
    cursor = re.search(r'hx-get="[^"]*\?cursor=([^"&]+)"', first).group(1)
    assert "bonus 29" in first and "bonus 4<" not in first

    more = client.get(url + f"?cursor={cursor}", headers={"HX-Request": "true", "HX-Target": "ledger-more"})
    rows = more.content.decode()
    assert "<html" not in rows
    notes = re.findall(r'class="ledger-note" title="([^"]+)"', rows)
    assert notes == [f"bonus {i}" for i in range(4, -1, -1)] + ["Welcome credits"]
    assert "That's everything" in rows
    assert 'id="ledger-more"' not in rows
    assert len(ledger_kinds(first)) + len(ledger_kinds(rows)) == LedgerEntry.objects.filter(user=user).count()

    plain = client.get(url + f"?cursor={cursor}")
    assert plain.status_code == 200
    assert "Newest entries" in plain.content.decode()


def test_a_broken_ledger_cursor_goes_back_to_the_newest_entries(client, user):
    response = client.get(reverse("accounts:credits") + "?cursor=not-a-cursor", follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:credits")
    assert any("no longer exists" in str(m) for m in response.context["messages"])


def test_settings_nav_marks_the_current_page(client, user):
    html = client.get(reverse("accounts:credits")).content.decode()
    nav = re.search(r'<nav class="settings-nav".*?</nav>', html, re.S).group(0)
    assert re.search(r'href="/accounts/settings/credits" aria-current="page"', nav)
    assert not re.search(r'href="/accounts/settings/keys" aria-current="page"', nav)
