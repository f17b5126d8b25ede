"""Share links: a signed, expiring page for one image that someone without an account can open."""

from __future__ import annotations

import html
import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from generations import sharing, storage
from generations.models import Stage
from generations.review import services as review
from tests.studio_factories import make_generation, make_team

HX = {"HX-Request": "true"}


def make_link(client: Client, g, **data) -> str:
    response = client.post(reverse("generations:share", args=[g.public_id]), data, headers=HX)
    assert response.status_code == 200, response.content
    match = re.search(r'id="share-url" type="text" readonly value="([^"]+)"', response.content.decode())
    assert match, response.content.decode()
    return html.unescape(match.group(1))


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_the_image_page_offers_a_share_link_for_a_finished_image(logged_in, user):
    g = make_generation(user)
    content = logged_in.get(reverse("generations:image", args=[g.public_id])).content.decode()
    assert f'hx-post="{reverse("generations:share", args=[g.public_id])}"' in content
    assert "Share link" in content
    assert '<option value="7" selected>7 days</option>' in content


def test_a_member_makes_a_link_with_its_expiry(logged_in, user):
    g = make_generation(user)
    response = logged_in.post(reverse("generations:share", args=[g.public_id]), {"days": "30"}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "http://testserver/s/" in body
    assert "(30 days)" in body
    assert 'data-copy="#share-url"' in body


def test_the_default_expiry_comes_from_the_setting(logged_in, user, settings, monkeypatch):
    settings.STUDIO_SHARE_TTL_SECONDS = 24 * 3600
    g = make_generation(user)
    url = make_link(logged_in, g)  # no days: the default
    issued = storage.now()
    monkeypatch.setattr(storage, "now", lambda: issued + 24 * 3600 - 60)
    assert Client().get(path_of(url)).status_code == 200
    monkeypatch.setattr(storage, "now", lambda: issued + 24 * 3600 + 60)
    assert Client().get(path_of(url)).status_code == 410


def test_without_javascript_the_link_comes_on_a_page_of_its_own(logged_in, user):
    g = make_generation(user)
    response = logged_in.post(reverse("generations:share", args=[g.public_id]), {"days": "7"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<!doctype html>" in body
    assert 'id="share-url"' in body
    assert "Back to the image" in body


def test_someone_who_cannot_see_the_image_cannot_share_it(client, make_user):
    owner, stranger = make_user("owner"), make_user("stranger")
    g = make_generation(owner)
    client.force_login(stranger)
    assert client.post(reverse("generations:share", args=[g.public_id]), {"days": "7"}).status_code == 404


def test_a_viewer_of_a_team_may_share_its_image(client, make_user):
    owner, viewer = make_user("owner"), make_user("vic")
    team = make_team(owner, vic=Role.VIEWER)
    g = make_generation(owner, team=team)
    client.force_login(viewer)
    assert make_link(client, g).startswith("http://testserver/s/")


def test_an_unfinished_image_cannot_be_shared(logged_in, user):
    g = make_generation(user, stage=Stage.RENDERING)
    response = logged_in.post(reverse("generations:share", args=[g.public_id]), headers=HX)
    assert response.status_code == 409
    assert "Only a finished image can be shared." in response.content.decode()


def test_signed_out_visitors_must_log_in_to_make_a_link(client, user):
    g = make_generation(user)
    response = client.post(reverse("generations:share", args=[g.public_id]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_shared_page_shows_the_image_its_prompt_and_settings_to_anyone(logged_in, user):
    g = make_generation(user, prompt="Poster with text 'OPEN LATE'", aspect_ratio="16:9", style="retro",
                        colors=["#ff5a36"], seed=4242)  # fmt: skip
    url = make_link(logged_in, g)
    response = Client().get(path_of(url))
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Poster with text 'OPEN LATE'" in body
    assert re.search(r'<img src="http://testserver/files/[^"]+\.webp" alt="[^"]*" width="1360" height="768"', body)
    assert re.search(r'data-param="seed">4242<', body)
    assert "#ff5a36" in body and "retro" in body
    assert 'data-download="png"' in body and 'data-download="webp"' in body
    assert "Sign up" in body
    assert response["Referrer-Policy"] == "no-referrer"
    assert "private" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in body


def test_the_shared_page_shows_no_team_data_and_no_other_images(client, make_user):
    owner = make_user("owner")
    team = make_team(owner, name="Secret Crew")
    g = make_generation(owner, team=team, prompt="The shared one")
    other = make_generation(owner, team=team, prompt="Not for strangers")
    review.add_comment(user=owner, generation=g, body="internal note about the client")
    client.force_login(owner)
    url = make_link(client, g)
    body = Client().get(path_of(url)).content.decode()
    for private in ("Secret Crew", "internal note", "Not for strangers", other.public_id, owner.username, "Credits"):
        assert private not in body, private


def test_the_shared_pages_file_links_work_for_an_anonymous_visitor(logged_in, user):
    g = make_generation(user)
    url = make_link(logged_in, g)
    anonymous = Client()
    body = html.unescape(anonymous.get(path_of(url)).content.decode())
    links = re.findall(r'(?:src|href)="(http://testserver/files/[^"]+)"', body)
    assert len(links) == 3  # the picture, the PNG and the WebP download
    for link in links:
        response = anonymous.get(path_of(link))
        assert response.status_code == 200, link
        assert response["Content-Type"] in ("image/png", "image/webp")


def test_a_tampered_link_is_refused_with_403(logged_in, user):
    g = make_generation(user)
    url = make_link(logged_in, g)
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    response = Client().get(path_of(tampered))
    assert response.status_code == 403
    assert "This share link is not valid" in response.content.decode()


def test_a_link_for_another_image_cannot_be_forged_from_a_file_token(user):
    g = make_generation(user)
    file_token = storage.make_token(g, "png")  # signed, but with the files' salt
    response = Client().get(reverse("generations:shared", args=[file_token]))
    assert response.status_code == 403
    forged = signing.dumps({"g": g.public_id, "e": 2**40}, salt="studio.files")
    assert Client().get(reverse("generations:shared", args=[forged])).status_code == 403


def test_an_expired_link_says_so_with_410(logged_in, user, monkeypatch):
    g = make_generation(user)
    url = make_link(logged_in, g, days="1")
    issued = storage.now()
    monkeypatch.setattr(storage, "now", lambda: issued + sharing.DAY + 1)
    response = Client().get(path_of(url))
    assert response.status_code == 410
    body = response.content.decode()
    assert "This share link has expired" in body
    assert "Ask whoever sent it for a fresh one." in body


def test_a_deleted_image_answers_404(logged_in, user):
    g = make_generation(user)
    url = make_link(logged_in, g)
    g.delete()
    response = Client().get(path_of(url))
    assert response.status_code == 404
    assert "This image is no longer here" in response.content.decode()


@pytest.mark.parametrize("days", ["0", "365", "x", ""])
def test_an_expiry_not_offered_falls_back_to_the_default(logged_in, user, days):
    g = make_generation(user)
    response = logged_in.post(reverse("generations:share", args=[g.public_id]), {"days": days}, headers=HX)
    assert "(7 days)" in response.content.decode()


def test_the_shared_page_says_when_the_files_carry_no_parameters(logged_in, user):
    g = make_generation(user, embed_parameters=False)
    page = Client().get(path_of(make_link(logged_in, g))).content.decode()
    assert "Parameters not embedded" in page
    kept = make_generation(user)
    assert "Parameters not embedded" not in Client().get(path_of(make_link(logged_in, kept))).content.decode()
