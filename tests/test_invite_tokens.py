"""Team invite tokens are stored hashed, like API keys: the link is shown once, when it is created."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse

from accounts import teams
from accounts.models import Invite, Role, hash_key
from tests.studio_factories import make_team

pytestmark = pytest.mark.django_db

LINK = re.compile(r'value="(http://testserver/invites/([^"]+))"')


@pytest.fixture
def owner(client, make_user):
    user = make_user("olivia")
    client.force_login(user)
    return user


@pytest.fixture
def crew(owner):
    return make_team(owner, "Poster Crew")


def create_link_in_page(client, crew, role: str = "viewer") -> tuple[str, str, object]:
    response = client.post(reverse("teams:link", args=[crew.public_id]), {"role": role})
    assert response.status_code == 200
    found = LINK.search(response.content.decode())
    assert found, "the new link's address is in the response that created it"
    return found.group(1), found.group(2), response


def every_stored_value() -> str:
    """Every column of every row of every table, as text (the test database is small)."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            values.extend(str(v) for row in cursor.fetchall() for v in row)
    return "\n".join(values)


def test_the_link_token_is_not_stored_in_clear_anywhere(client, crew):
    _, token, _ = create_link_in_page(client, crew)

    invite = Invite.objects.get(team=crew, invitee=None)
    assert invite.token_hash == hash_key(token)
    assert invite.token_prefix == token[:6]
    for column, value in Invite.objects.filter(pk=invite.pk).values().get().items():
        assert token not in str(value), column
    assert token not in every_stored_value()  # not in the session or a stored message either


def test_the_link_shown_once_works(client, crew, make_user):
    address, _, created = create_link_in_page(client, crew, role="editor")
    assert "no-store" in created["Cache-Control"]
    guest = make_user("guest")
    client.force_login(guest)

    page = client.get(address)
    assert page.status_code == 200
    assert "Join Poster Crew as editor" in page.content.decode()
    assert client.post(address)["Location"] == reverse("generations:studio")
    assert crew.memberships.filter(user=guest, role=Role.EDITOR).exists()


def test_afterwards_the_team_page_shows_only_the_links_prefix(client, crew):
    _, token, _ = create_link_in_page(client, crew)

    html = client.get(reverse("teams:detail", args=[crew.public_id])).content.decode()

    assert token not in html
    assert f"/invites/{token[:6]}…" in html
    assert "Copy the link when you create it" in html


def test_a_wrong_token_with_the_right_prefix_is_refused(client, owner, crew, make_user):
    link = teams.create_link(by=owner, team=crew, role=Role.VIEWER)
    client.force_login(make_user("guest"))

    forged = link.token[:6] + "x" * (len(link.token) - 6)
    assert client.get(reverse("teams:join", args=[forged])).status_code == 404
    assert client.get(reverse("teams:join", args=[link.token_hash])).status_code == 404  # the hash is no token


def test_a_personal_invite_is_stored_hashed_and_its_invitee_can_still_open_it(client, owner, crew, make_user):
    newbie = make_user("newbie")
    invite = teams.invite_user(by=owner, team=crew, identifier="newbie", role=Role.VIEWER)
    stored = Invite.objects.get(pk=invite.pk)
    assert stored.token_hash == hash_key(invite.token)
    assert invite.token not in every_stored_value()

    client.force_login(newbie)
    assert client.get(reverse("teams:join", args=[invite.token])).status_code == 200
    assert client.post(reverse("teams:accept", args=[invite.pk]))["Location"] == reverse("generations:studio")
    assert crew.memberships.filter(user=newbie, role=Role.VIEWER).exists()


def test_the_data_migration_hashes_old_tokens_in_place_so_old_links_keep_working(owner, crew):
    link = teams.create_link(by=owner, team=crew, role=Role.VIEWER)
    legacy = "Qm9yZWQtbGVnYWN5LXRva2VuLTEyMzQ"  # a token as 0004 stored it, in clear
    Invite.objects.filter(pk=link.pk).update(token_hash=legacy, token_prefix="")
    migration = importlib.import_module("accounts.migrations.0006_hash_invite_tokens")

    migration.hash_tokens(django_apps, None)
    migration.hash_tokens(django_apps, None)  # a hash is left alone: hashing twice changes nothing

    stored = Invite.objects.get(pk=link.pk)
    assert stored.token_hash == hash_key(legacy) and stored.token_prefix == legacy[:6]
    assert teams.open_invite_by_token(legacy).pk == link.pk


def test_the_admin_shows_the_prefix_not_the_token(admin_client, owner, crew):
    link = teams.create_link(by=owner, team=crew, role=Role.VIEWER)

    listing = admin_client.get(reverse("admin:accounts_invite_changelist")).content.decode()
    change = admin_client.get(reverse("admin:accounts_invite_change", args=[link.pk])).content.decode()

    assert link.token_prefix in listing
    for html in (listing, change):
        assert link.token not in html and link.token_hash not in html
