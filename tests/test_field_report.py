"""The designer's field report, one test per trip: wording, links, dates, team tiles, credits rows."""

from __future__ import annotations

import html
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from accounts import ledger, teams
from accounts.models import Role, User
from generations import services, specs
from tests.studio_factories import make_generation, make_team


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- Plurals -----------------------------------------------------------------------------------


def test_one_credit_is_one_credit(client, make_user):
    one = make_user("solo", credits=1)
    client.force_login(one)
    page = text(client.get(reverse("accounts:credits")))
    assert "1 credits" not in page
    assert re.search(r'data-balance="1">1</span><span class="credits-label"> credit</span>', page)
    assert "credit · enough for 0 images" in page


def test_a_one_item_plan_value_says_item(logged_in, user):
    g = make_generation(user, deep_thinking=True, plan={"boxes": [{"x": 1}], "layers": [{"a": 1}, {"b": 2}]})
    page = text(logged_in.get(reverse("generations:image", args=[g.public_id])))
    assert "1 item<" in page and "2 items<" in page
    assert "1 items" not in page


# --- Roles and credits wording -------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sentence"), [(Role.EDITOR, "You're an editor here."), (Role.VIEWER, "You're a viewer here."), (Role.OWNER, "You're an owner here.")])  # fmt: skip
def test_joining_a_team_names_the_role_with_its_article(client, make_user, role, sentence):
    owner, dana = make_user("owner"), make_user("dana")
    team = make_team(owner)
    invite = teams.invite_user(by=owner, team=team, identifier="dana", role=role)
    client.force_login(dana)
    response = client.post(reverse("teams:accept", args=[invite.pk]), follow=True)
    assert sentence in text(response)


def test_someone_out_of_credits_is_told_whom_to_ask(client, make_user):
    poor = make_user("poor", credits=3)
    client.force_login(poor)
    form = {"prompt": "A lighthouse", "aspect_ratio": "1:1", "style": "auto", "seed_mode": "random", "count": "1"}
    page = text(client.post(reverse("generations:create"), form))
    assert "Available: 3. Pick fewer images, or ask your Studio admin for more credits." in page
    assert "add credits" not in page


def test_staff_are_told_how_to_grant_credits(client, make_user):
    admin = make_user("admin", credits=3)
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    client.force_login(admin)
    form = {"prompt": "A lighthouse", "aspect_ratio": "1:1", "style": "auto", "seed_mode": "random", "count": "1"}
    assert "manage.py grantcredits" in text(client.post(reverse("generations:create"), form))


# --- Password reset mail -------------------------------------------------------------------------


def test_with_the_console_mail_backend_the_reset_page_says_the_link_is_in_the_log(client, user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    User.objects.filter(pk=user.pk).update(email="dana@example.com")
    response = client.post(reverse("accounts:password_reset"), {"email": "dana@example.com"}, follow=True)
    page = text(response)
    assert "the server's log" in page
    assert "spam" not in page
    assert "server's log" in text(client.get(reverse("accounts:password_reset")))


def test_with_a_real_mail_server_the_reset_page_says_check_your_email(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    page = text(client.get(reverse("accounts:password_reset_done")))
    assert "Check your email" in page and "spam folder" in page


# --- Links ---------------------------------------------------------------------------------------


def test_the_desktop_top_bar_links_teams_and_the_footer_links_the_api_docs(logged_in):
    page = text(logged_in.get(reverse("accounts:keys")))
    assert re.search(r'<a href="/teams" class="topnav-link nav-wide"[^>]*>Teams</a>', page)
    assert re.search(r'<footer class="site-foot">.*href="/v1/docs".*</footer>', page, re.S)
    teams_page = text(logged_in.get(reverse("teams:list")))
    assert re.search(r'<a href="/teams" class="topnav-link nav-wide" aria-current="page">Teams</a>', teams_page)


def test_signed_out_pages_link_the_api_docs_too(client):
    assert 'href="/v1/docs"' in text(client.get(reverse("accounts:login")))


# --- Dates ---------------------------------------------------------------------------------------


def test_date_filters_follow_the_visitors_language(logged_in):
    page = text(logged_in.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert re.search(r'<div class="filters-more" lang="en-gb">', page)
    german = text(logged_in.get("/", headers={"Accept-Language": "de-DE"}))
    assert 'class="filters-more" lang="de-de"' in german
    assert 'class="filters-more" lang="en-us"' in text(logged_in.get("/"))  # LANGUAGE_CODE


# --- Team tiles ----------------------------------------------------------------------------------


def test_team_tiles_say_who_made_the_image(client, make_user):
    owner, eddie = make_user("owner"), make_user("eddie")
    team = make_team(owner, eddie=Role.EDITOR)
    make_generation(eddie, team=team, prompt="Eddie's poster")
    make_generation(owner, prompt="A personal one")
    client.force_login(owner)
    client.post(reverse("teams:switch"), {"workspace": team.public_id, "next": "/"})
    page = text(client.get("/"))
    assert '<span class="tile-by" data-creator>by eddie</span>' in page
    client.post(reverse("teams:switch"), {"workspace": "personal", "next": "/"})
    assert "data-creator" not in text(client.get("/"))


# --- Credits history -----------------------------------------------------------------------------


def test_a_batch_is_one_row_of_the_credits_history(client, make_user):
    rich = make_user("rich", tier="pro", credits=1000)
    spec = specs.build_spec({"prompt": "A batch poster"}, require_model=False)
    services.submit_batch(user=rich, specs_=[spec] * 12)
    services.submit(user=rich, spec=spec)
    client.force_login(rich)
    page = client.get(reverse("accounts:credits")).content.decode()
    rows = re.findall(r'<tr class="ledger-row" data-kind="(\w+)"( data-batch="[^"]+" data-count="(\d+)")?>', page)
    assert [(kind, count) for kind, _, count in rows] == [
        ("charge", ""),
        ("charge", "12"),
        ("grant", ""),
        ("signup", ""),
    ]
    assert "Batch of 12 images" in page
    assert "\N{MINUS SIGN}84" in page  # 12 x 7, in one row
    assert len(re.findall(r'class="ledger-gen mono"', page)) == 13  # each image still linked, in the expandable list


def test_a_batch_row_is_never_split_between_pages(client, make_user):
    rich = make_user("rich", tier="pro", credits=5000)
    spec = specs.build_spec({"prompt": "A batch poster"}, require_model=False)
    with transaction.atomic():
        for i in range(20):
            ledger.grant(user=rich, amount=1, note=f"bonus {i}")
    services.submit_batch(user=rich, specs_=[spec] * 30)
    for i in range(6):
        with transaction.atomic():
            ledger.grant(user=rich, amount=1, note=f"late {i}")
    client.force_login(rich)
    first = client.get(reverse("accounts:credits")).content.decode()
    assert 'data-count="30"' in first  # the 7th row: all 30 charges, though the page has 25 rows
    cursor = re.search(r"\?cursor=([^\"&]+)", first).group(1)
    rest = client.get(reverse("accounts:credits") + f"?cursor={cursor}").content.decode()
    assert 'data-batch="' not in rest
    shown = len(re.findall(r'class="ledger-row"', first)) + len(re.findall(r'class="ledger-row"', rest))
    assert shown == 6 + 1 + 20 + 2  # late grants, the batch, bonuses, the balance set and the signup


# --- Commands ------------------------------------------------------------------------------------


def test_createuser_for_an_existing_user_points_to_grantcredits(make_user):
    make_user("dana")
    with pytest.raises(CommandError, match=r"manage.py grantcredits dana 1000 --tier pro"):
        call_command("createuser", "dana", password="a-long-password")
