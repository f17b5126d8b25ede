"""`/` signed out: what the studio does, with its real output; signed in: the studio itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from generations.management.commands.landingimages import EXAMPLES, MANIFEST, landing_dir
from studio import landing


def test_signed_out_visitors_get_the_landing_page(client):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="landing-title"' in body
    assert f'href="{reverse("accounts:signup")}"' in body and "Sign up free" in body
    assert f'href="{reverse("accounts:login")}"' in body
    assert "curl http://testserver/v1/images/generate" in body
    assert 'href="/v1/docs"' in body


def test_the_landing_page_shows_the_shipped_examples_with_their_prompts(client):
    body = client.get("/").content.decode()
    examples = landing.examples()
    assert len(examples) == len(EXAMPLES)
    for example in examples:
        assert re.search(rf'<img src="/static/img/landing/{re.escape(example["file"])}"', body)
        assert example["prompt"].replace("'", "&#x27;") in body
    assert "offline preview engine" in body


def test_the_shipped_examples_are_real_webp_output_of_the_typeset_engine():
    manifest = json.loads((landing_dir() / MANIFEST).read_text())
    assert [row["prompt"] for row in manifest] == [e[0] for e in EXAMPLES]
    for row in manifest:
        assert row["engine"] == "typeset"
        with Image.open(landing_dir() / row["file"]) as image:
            assert image.format == "WEBP"
            assert image.size == (row["width"], row["height"])


def test_the_command_renders_the_examples(tmp_path: Path):
    call_command("landingimages", out=tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert len(manifest) == len(EXAMPLES)
    first = manifest[0]
    with Image.open(tmp_path / first["file"]) as image:
        assert max(image.size) == 640
        assert image.getextrema() != ((0, 0), (0, 0), (0, 0))  # not a blank picture


def test_signed_in_users_get_the_studio_at_the_same_address(logged_in):
    response = logged_in.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="landing-title"' not in body
    assert 'id="gen-form"' in body or 'name="prompt"' in body
    assert 'href="/" class="topnav-link nav-wide" aria-current="page">Studio<' in body


def test_a_signed_out_htmx_request_for_the_gallery_is_sent_to_log_in(client):
    response = client.get("/", {"q": "poster"}, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login?next=")
