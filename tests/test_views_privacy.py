"""The Privacy settings page (embed prompt and parameters, or not) and the image page's
Content Credentials panel, read back from the stored PNG."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.core.files.storage import default_storage

from generations import provenance
from generations.models import Generation
from tests.studio_factories import make_generation

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_privacy_page_shows_the_setting_on_by_default_and_saves_it_off_and_on(logged_in, user):
    page = text(logged_in.get("/accounts/settings/privacy"))
    assert re.search(r'<input type="checkbox" id="id_embed_parameters" name="embed_parameters" checked>', page)
    assert 'href="/accounts/settings/privacy" aria-current="page"' in page
    assert "Content Credentials" in page

    response = logged_in.post("/accounts/settings/privacy", {}, follow=True)
    user.refresh_from_db()
    assert user.embed_parameters is False
    page = text(response)
    assert "will be left out of new images' files" in page
    assert 'name="embed_parameters">' in page  # unticked

    logged_in.post("/accounts/settings/privacy", {"embed_parameters": "on"})
    user.refresh_from_db()
    assert user.embed_parameters is True


def test_the_studio_form_follows_the_users_setting(logged_in, user):
    user.embed_parameters = False
    user.save(update_fields=["embed_parameters"])
    response = logged_in.post("/generate", {"prompt": "A barn", "count": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert Generation.objects.get().embed_parameters is False


def test_the_privacy_page_needs_an_account(client):
    response = client.get("/accounts/settings/privacy")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_the_image_page_shows_the_content_credentials_read_from_the_png(logged_in, user):
    g = make_generation(user)
    page = text(logged_in.get(f"/images/{g.public_id}"))
    panel = page.split("data-credentials>", 1)[1].split("</section>", 1)[0]
    assert 'data-credentials-state="trusted"' in panel and "Valid" in panel
    assert "<dt>Issuer</dt><dd data-credentials-issuer>Studio (development only)</dd>" in panel
    assert "<dt>Signer</dt><dd>Studio development signer</dd>" in panel
    assert "development certificate" in panel
    # The test engine is no neural model: the honest source type.
    assert provenance.SOURCE_TYPE_WORDS[provenance.ALGORITHMIC] in panel
    assert f"Studio {provenance.version()}" in panel
    assert "data-embed-off" not in page


def test_a_changed_file_shows_invalid(logged_in, user):
    g = make_generation(user)
    with default_storage.open(g.image_png, "rb") as f:
        data = bytearray(f.read())
    data[data.index(b"IDAT") + 40] ^= 0xFF
    default_storage.delete(g.image_png)
    default_storage.save(g.image_png, io.BytesIO(bytes(data)))
    page = text(logged_in.get(f"/images/{g.public_id}"))
    assert 'data-credentials-state="invalid"' in page
    assert "assertion.dataHash.mismatch" in page


def test_with_parameters_not_embedded_the_page_says_so_beside_the_downloads(logged_in, user):
    g = make_generation(user, embed_parameters=False)
    page = text(logged_in.get(f"/images/{g.public_id}"))
    assert "Parameters not embedded" in page
    assert 'data-credentials-state="trusted"' in page


def test_an_unfinished_image_has_no_panel(logged_in, user):
    g = make_generation(user, stage="queued")
    assert "data-credentials" not in text(logged_in.get(f"/images/{g.public_id}"))
