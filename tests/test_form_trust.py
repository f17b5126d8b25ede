"""The prompt form you can trust: what it keeps, its summary and Reset, the model picker, honest
engine labels, prompt history, and canceling queued work from a tile or the image page."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from accounts import ledger
from generations.models import Generation, Stage
from tests.studio_factories import make_generation, make_team

HX = {"HX-Request": "true"}
STUDIO = "/"
CREATE = "/generate"
MODELS = {
    "seedream-5.0-lite": {"engine": "typeset", "options": {}},
    "gpt-image-1": {"engine": "openai", "options": {"model": "gpt-image-1", "base_url": "http://127.0.0.1:9/v1"}},
}


def valid(**overrides):
    data = {
        "prompt": "Navy and gold art deco poster",
        "aspect_ratio": "16:9",
        "style": "retro",
        "colors": ["#1e3a8a", "#f5c542"],
        "deep_thinking": "on",
        "seed_mode": "random",
        "count": "3",
    }
    data.update(overrides)
    return data


def form_of(content: str) -> str:
    match = re.search(r'<form id="gen-form".*?</form>', content, re.S)
    assert match, "no prompt form"
    return match.group(0)


def summary_of(content: str) -> str:
    """The summary's shown items, joined as the page's CSS separates them."""
    match = re.search(r'<p class="settings-summary".*?</p>', content, re.S)
    assert match, "no settings summary"
    items = re.findall(
        r'<(?:span|strong) class="sum-item[^"]*" data-sum="\w+"(?: title="[^"]*")?( hidden)?>(.*?)</(?:span|strong)>\n',
        match.group(0),
    )
    shown = [re.sub(r"<[^>]+>", "", text) for hidden, text in items if not hidden]
    return " · ".join(" ".join(html.unescape(text).split()) for text in shown)


@pytest.fixture
def rich(make_user):
    return make_user(credits=500)


@pytest.fixture
def rich_client(client, rich):
    client.force_login(rich)
    return client


def test_after_a_generation_the_form_keeps_the_prompt_but_not_palette_deep_thinking_or_count(rich_client):
    response = rich_client.post(CREATE, valid(), headers=HX)
    assert response.status_code == 200
    form = form_of(response.content.decode())
    assert "Navy and gold art deco poster</textarea>" in form
    assert re.search(r'value="16:9"[^>]*checked', form)
    assert 'name="colors" value="#1e3a8a"' not in form
    assert not re.search(r'name="deep_thinking" value="on" checked', form)
    assert re.search(r'name="count" value="1" data-count checked', form)
    assert Generation.objects.count() == 3


def test_a_reload_after_a_generation_starts_from_the_defaults(rich_client):
    rich_client.post(CREATE, valid())
    form = form_of(rich_client.get(STUDIO).content.decode())
    assert "Navy and gold art deco poster</textarea>" not in form and "></textarea>" in form
    assert re.search(r'name="count" value="1" data-count checked', form)
    assert 'value="#1e3a8a"' not in form and 'value="#f5c542"' not in form


def test_the_summary_names_every_active_setting_and_the_cost(rich_client, rich):
    g = make_generation(rich, prompt="Koi", aspect_ratio="9:16", style="anime", colors=["#112233"],
                        deep_thinking=True, seed=99, negative_prompt="text")  # fmt: skip
    content = rich_client.get(f"{STUDIO}?from={g.public_id}&mode=all").content.decode()
    summary = summary_of(content)
    assert summary.startswith("9:16 · Anime · 1 colour · deep thinking on · 1 image · seed 99 · negative prompt")
    assert "seedream-5.0-lite" in summary and summary.endswith("7 credits")


def test_the_default_summary_and_a_reset_that_works_without_javascript(rich_client):
    content = rich_client.get(STUDIO).content.decode()
    assert summary_of(content).startswith("1:1 · Auto · no palette · deep thinking off · 1 image · seedream-5.0-lite")
    reset = re.search(r"<a [^>]*data-reset[^>]*>", content).group(0)
    assert 'href="/"' in reset  # the defaults, as a fresh visit shows them
    assert '"count": 1' in content and '"colors": []' in content  # what form.js resets to


def test_remix_fills_every_setting_but_the_seed_and_not_an_old_count(rich_client, rich):
    rich_client.post(CREATE, valid(count="4"))
    g = make_generation(rich, prompt="Neon koi", style="anime", colors=["#445566"], seed=7, negative_prompt="fog")
    form = form_of(rich_client.get(f"{STUDIO}?from={g.public_id}&mode=remix").content.decode())
    assert "Neon koi</textarea>" in form and 'value="#445566"' in form and "fog</textarea>" in form
    assert re.search(r'name="count" value="1" data-count checked', form)
    assert re.search(r'name="seed_mode" value="random" checked', form)


def test_one_model_shows_no_picker_and_says_the_engine_is_an_offline_preview(rich_client, settings):
    settings.STUDIO_MODELS = {"seedream-5.0-lite": {"engine": "typeset", "options": {}}}
    form = form_of(rich_client.get(STUDIO).content.decode())
    assert "<select" not in form
    assert 'name="model" value="seedream-5.0-lite"' in form
    assert re.search(r"data-offline-note title=\"Typeset", form) and "Offline preview" in form
    assert "seedream-5.0-lite · preview</span>" in form


def test_several_models_get_a_picker_labelled_by_what_serves_them(rich_client, settings):
    settings.STUDIO_MODELS = MODELS
    form = form_of(rich_client.get(STUDIO).content.decode())
    assert 'name="model"' in form and "<select" in form
    assert re.search(r'value="seedream-5.0-lite" data-offline="1"', form)
    assert re.search(r'value="gpt-image-1" data-offline="0"', form)
    rich_client.post(CREATE, valid(model="gpt-image-1", count="1"))
    assert Generation.objects.get().model == "gpt-image-1"


def test_an_unknown_model_is_refused_beside_the_picker(rich_client, settings):
    settings.STUDIO_MODELS = MODELS
    response = rich_client.post(CREATE, valid(model="dall-e-9", count="1"))
    assert response.status_code == 422
    assert "Model identifier not recognized" in html.unescape(response.content.decode())
    assert not Generation.objects.exists()


def test_tiles_of_an_offline_engine_say_so(rich_client, rich):
    make_generation(rich, prompt="Koi")
    content = rich_client.get(STUDIO).content.decode()
    assert 'data-offline-preview><span class="long">Offline </span>preview</span>' in content


def test_the_prompt_box_offers_recent_distinct_prompts_newest_first(rich_client, rich, make_user):
    for prompt in ("Old barn", "Koi pond", "Old barn", "Neon city"):
        make_generation(rich, prompt=prompt)
    make_generation(make_user(), prompt="Someone else's secret")
    content = rich_client.get(STUDIO).content.decode()
    history = re.search(r'<ul class="prompt-history-list".*?</ul>', content, re.S).group(0)
    assert re.findall(r'data-example="([^"]+)"', history) == ["Neon city", "Old barn", "Koi pond"]
    assert "secret" not in history


# --- Cancel -------------------------------------------------------------------------------


def submit_one(client) -> Generation:
    client.post(CREATE, valid(count="1"))
    return Generation.objects.latest("id")


def test_cancel_from_a_tile_refunds_and_updates_the_credits_pill(rich_client, rich):
    g = submit_one(rich_client)
    assert ledger.balance(rich) == 493
    tile = rich_client.get(STUDIO).content.decode()
    assert f'hx-post="/images/{g.public_id}/cancel"' in tile
    response = rich_client.post(f"/images/{g.public_id}/cancel", headers=HX)
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert f'<figure id="gen-{g.public_id}"' in content and "Canceled" in content
    assert "7 credits refunded" in content
    assert re.search(r'id="credits-pill"[^>]*hx-swap-oob="true"', content)
    assert 'data-balance="500"' in content
    g.refresh_from_db()
    assert g.stage == Stage.CANCELED
    assert ledger.balance(rich) == 500
    rich.refresh_from_db()
    assert rich.credits == 500


def test_cancel_from_the_image_page_answers_the_page_with_the_refund(rich_client, rich):
    g = submit_one(rich_client)
    page = rich_client.get(f"/images/{g.public_id}").content.decode()
    assert "data-cancel>Cancel · refund 7 credits" in page
    response = rich_client.post(f"/images/{g.public_id}/cancel", {"page": "1"}, headers=HX)
    content = html.unescape(response.content.decode())
    assert "Canceled · 7 credits refunded" in content
    assert 'data-balance="500"' in content


def test_cancel_without_javascript_redirects_back_with_a_message(rich_client, rich):
    g = submit_one(rich_client)
    response = rich_client.post(f"/images/{g.public_id}/cancel", follow=True)
    assert response.redirect_chain[-1][0] == f"/images/{g.public_id}"
    assert "Canceled · 7 credits refunded" in html.unescape(response.content.decode())


def test_canceling_a_finished_image_changes_nothing(rich_client, rich):
    g = make_generation(rich)
    before = ledger.balance(rich)
    response = rich_client.post(f"/images/{g.public_id}/cancel", headers=HX)
    assert response.status_code == 200 and 'data-stage="completed"' in response.content.decode()
    assert ledger.balance(rich) == before
    g.refresh_from_db()
    assert g.stage == Stage.COMPLETED


def test_cancel_needs_a_post_and_someone_elses_image_is_a_404(rich_client, make_user):
    g = make_generation(make_user(), stage=Stage.QUEUED)
    assert rich_client.get(f"/images/{g.public_id}/cancel").status_code == 405
    assert rich_client.post(f"/images/{g.public_id}/cancel").status_code == 404


def test_in_a_team_editors_may_cancel_and_viewers_may_not(client, make_user):
    owner, editor, viewer = make_user("owner", credits=100), make_user("ed"), make_user("vi")
    team = make_team(owner, ed="editor", vi="viewer")
    g = make_generation(owner, stage=Stage.QUEUED, team=team)
    client.force_login(viewer)
    client.post(reverse("teams:switch"), {"workspace": team.public_id})
    assert f"/images/{g.public_id}/cancel" not in client.get(STUDIO).content.decode()
    assert client.post(f"/images/{g.public_id}/cancel", headers=HX).status_code == 403
    client.force_login(editor)
    assert client.post(f"/images/{g.public_id}/cancel", headers=HX).status_code == 200
    g.refresh_from_db()
    assert g.stage == Stage.CANCELED
    assert ledger.balance(owner) == 107  # the refund goes to whoever paid
