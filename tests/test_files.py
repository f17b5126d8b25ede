"""Signed, expiring links to image files."""

import pytest
from django.test import override_settings

from generations import services, storage
from generations.worker import render as pipeline
from tests.helpers import spec


@pytest.fixture
def finished(make_user):
    with override_settings(STUDIO_MODELS={"seedream-5.0-lite": {"engine": "fake", "options": {}}}):
        g = services.submit(user=make_user(), spec=spec(prompt="A Big Red Barn!")).generations[0]
        pipeline.render(g.pk)
    g.refresh_from_db()
    return g


def test_a_signed_link_serves_the_file_with_a_name_from_the_prompt(client, finished):
    url = storage.signed_url(finished, "png", base_url="http://testserver")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    download = client.get(url + "?download=1")
    assert f'filename="a-big-red-barn-{finished.public_id[-6:]}.png"' in download["Content-Disposition"]


def test_a_tampered_link_is_refused_with_403_and_no_file(client, finished):
    url = storage.signed_url(finished, "webp")
    token = url.split("/")[2]
    response = client.get(url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_link"


def test_a_link_is_refused_with_410_once_its_24_hours_are_over(client, finished, monkeypatch, settings):
    url = storage.signed_url(finished, "png")
    issued = storage.now()
    lives = settings.STUDIO_LINK_TTL_SECONDS + settings.STUDIO_LINK_REUSE_SECONDS  # see the next test
    monkeypatch.setattr(storage, "now", lambda: issued + lives - 5)
    assert client.get(url).status_code == 200
    monkeypatch.setattr(storage, "now", lambda: issued + lives + 1)
    response = client.get(url)
    assert response.status_code == 410
    assert response.json()["error"] == {
        "code": "link_expired",
        "message": "This link has expired. Request the image again for a fresh link.",
        "status": 410,
    }


def test_a_link_handed_out_again_still_lives_24_hours_from_then(client, finished, monkeypatch, settings):
    first = storage.signed_url(finished, "png")
    issued = storage.now()  # just after it was signed
    later = issued + settings.STUDIO_LINK_REUSE_SECONDS - 1
    monkeypatch.setattr(storage, "now", lambda: later)
    assert storage.signed_url(finished, "png") == first  # reused: signing is a poll's largest cost
    assert storage.signed_url(finished, "png", download=True) != first
    monkeypatch.setattr(storage, "now", lambda: later + settings.STUDIO_LINK_TTL_SECONDS - 1)
    assert client.get(first).status_code == 200  # the full TTL from the reply that handed it out
    monkeypatch.setattr(storage, "now", lambda: issued + settings.STUDIO_LINK_REUSE_SECONDS)
    fresh = storage.signed_url(finished, "png")
    assert fresh != first and client.get(fresh).status_code == 200
