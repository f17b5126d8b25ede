"""The negative prompt: one rule in specs, taken by both doors, recorded wherever the prompt is,
and sent to the engines that take one."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generations import services, specs
from generations.models import Generation
from generations.worker import render as pipeline
from tests.api_support import assert_error, generate, render
from tests.helpers import spec
from tests.studio_factories import make_generation

HX = {"HX-Request": "true"}


def test_the_rule_is_optional_trimmed_and_as_long_as_a_prompt_at_most():
    base = {"model": specs.DEFAULT_MODEL, "prompt": "A barn"}
    assert specs.build_spec(base).negative_prompt == ""
    assert specs.build_spec({**base, "negative_prompt": "  fog, text "}).negative_prompt == "fog, text"
    assert len(specs.build_spec({**base, "negative_prompt": "x" * 1000}).negative_prompt) == 1000
    with pytest.raises(specs.SpecError) as too_long:
        specs.build_spec({**base, "negative_prompt": "x" * 1001})
    assert (too_long.value.code, too_long.value.field) == ("invalid_negative_prompt", "negative_prompt")
    assert "1001 characters" in too_long.value.message
    with pytest.raises(specs.SpecError):
        specs.build_spec({**base, "negative_prompt": ["fog"]})


def test_the_api_accepts_records_and_returns_it(account):
    acct = account()
    response = generate(acct, negative_prompt="blurry, watermark")
    assert response.status_code == 200, response.text
    task_id = response.json()["task_id"]
    assert Generation.objects.get(public_id=task_id).negative_prompt == "blurry, watermark"
    processing = acct.http.get(f"/images/{task_id}").json()
    assert (processing["status"], processing["negative_prompt"]) == ("processing", "blurry, watermark")
    render(task_id)
    completed = acct.http.get(f"/images/{task_id}").json()
    assert (completed["status"], completed["negative_prompt"]) == ("completed", "blurry, watermark")
    listed = acct.http.get("/images").json()["data"][0]
    assert listed["negative_prompt"] == "blurry, watermark"


def test_without_one_the_replies_say_empty_and_nothing_else_changes(account):
    acct = account()
    task_id = generate(acct).json()["task_id"]
    assert acct.http.get(f"/images/{task_id}").json()["negative_prompt"] == ""
    canceled = acct.http.post(f"/images/{task_id}/cancel").json()
    assert canceled["status"] == "canceled" and canceled["negative_prompt"] == ""


def test_a_too_long_or_non_string_negative_prompt_is_400_in_the_envelope_and_charges_nothing(account):
    acct = account(credits=100)
    message = assert_error(generate(acct, negative_prompt="x" * 1001), 400, "invalid_negative_prompt")
    assert "maximum is 1000" in message
    assert_error(generate(acct, negative_prompt=42), 400, "invalid_negative_prompt")
    assert not Generation.objects.exists()
    assert acct.refresh().credits == 100


def test_the_openapi_document_describes_it_in_the_request_and_the_image_replies(client):
    document = client.get("/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["GenerateRequest"]["properties"]["negative_prompt"]["anyOf"][0]["maxLength"] == 1000
    for name in ("ImageProcessing", "ImageCompleted", "ImageFailed", "ImageCanceled"):
        assert "negative_prompt" in schemas[name]["properties"], name


def test_the_png_records_it_in_both_text_chunks(make_user, settings):
    settings.STUDIO_MODELS = {specs.DEFAULT_MODEL: {"engine": "fake", "options": {}}}
    user = make_user()
    g = services.submit(user=user, spec=spec(negative_prompt="the colour red")).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    png = Image.open(default_storage.open(g.image_png))
    assert "\nNegative prompt: the colour red\nSteps: 1" in png.info["parameters"]
    assert json.loads(png.info["studio"])["negative_prompt"] == "the colour red"


def test_the_form_sends_it_and_the_image_page_shows_it(logged_in, user):
    response = logged_in.post(
        "/generate", {"prompt": "A barn", "negative_prompt": "people, text", "count": "1"}, headers=HX
    )
    assert response.status_code == 200
    g = Generation.objects.get()
    assert g.negative_prompt == "people, text"
    # Not carried into the next image unseen.
    assert "people, text</textarea>" not in response.content.decode()
    page = html.unescape(logged_in.get(f"/images/{g.public_id}").content.decode())
    assert re.search(r'data-param="negative_prompt"><span class="faint">Avoid:</span> people, text<', page)


def test_the_form_refuses_a_too_long_one_beside_the_field(logged_in):
    response = logged_in.post("/generate", {"prompt": "A barn", "negative_prompt": "x" * 1001, "count": "1"})
    assert response.status_code == 422
    content = html.unescape(response.content.decode())
    assert re.search(r'id="negative_prompt-error">negative_prompt is 1001 characters long', content)
    assert not Generation.objects.exists()


def test_use_all_brings_it_back(logged_in, user):
    g = make_generation(user, prompt="Koi", negative_prompt="fog")
    content = logged_in.get(f"/?from={g.public_id}&mode=all").content.decode()
    assert re.search(r"<details class=\"section more\" data-more open>", content)
    assert "fog</textarea>" in content


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    pytest.importorskip("diffusers")
    from tests.diffusers_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("diffusers") / "tiny-sd")


def test_diffusers_receives_the_requests_negative_prompt_after_the_operators(tiny_sd):
    from generations.engines.diffusers_engine import DiffusersEngine

    engine = DiffusersEngine(path=str(tiny_sd), steps=1, max_side=64, negative_prompt="lowres")
    result = engine.render(spec(seed=1, negative_prompt="the colour red"), lambda fraction, note: None)
    assert result.plan["negative_prompt"] == "lowres, the colour red"
    alone = DiffusersEngine(path=str(tiny_sd), steps=1, max_side=64)
    assert alone.render(spec(seed=1, negative_prompt="fog"), lambda f, n: None).plan["negative_prompt"] == "fog"
