"""GET /v1/models tells the truth about each model id: the engine, whether it is neural, the
model it really runs, and what deep thinking does there; the studio's form says the same."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from generations.engines.ark import ArkEngine
from generations.engines.diffusers_engine import DiffusersEngine
from generations.engines.openai_compat import OpenAICompatEngine
from generations.engines.typeset.engine import TypesetEngine
from tests.helpers import spec


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    """What describing a diffusers model reads of its folder: model_index.json (no weights are loaded)."""
    folder = tmp_path / "tiny-sd"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    return folder


@pytest.fixture
def catalog(settings, model_folder: Path) -> dict:
    models = {
        "seedream-5.0-lite": {"engine": "typeset", "options": {}},
        "seedream-ark": {"engine": "ark", "options": {"api_key": "sk-test"}},
        "seedream-volc": {
            "engine": "ark",
            "options": {"api_key": "sk-test", "base_url": "https://ark.cn-beijing.volces.com/api/v3"},
        },
        "seedream-4": {"engine": "ark", "options": {"api_key": "sk-test", "model": "seedream-4-0-250828"}},
        "gpt-image-1": {
            "engine": "openai",
            "options": {"base_url": "http://127.0.0.1:9/v1", "model": "gpt-image-1", "api_key": "sk-test"},
        },
        "dall-e-3": {
            "engine": "openai",
            "options": {"base_url": "http://127.0.0.1:9/v1", "model": "dall-e-3", "exact_text": True},
        },
        "local-sd": {
            "engine": "diffusers",
            "options": {"path": str(model_folder), "steps": 20, "guidance_scale": 5, "exact_text": False},
        },
    }
    settings.STUDIO_MODELS = models
    return models


def listed(acct) -> dict[str, dict]:
    response = acct.http.get("/models")
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()["data"]}


def test_each_model_says_its_engine_whether_it_is_neural_and_the_model_it_runs(account, catalog):
    models = listed(account())

    assert list(models) == list(catalog)
    facts = {i: (m["engine"], m["neural"], m["upstream_model"]) for i, m in models.items()}
    assert facts == {
        "seedream-5.0-lite": ("typeset", False, None),
        "seedream-ark": ("ark", True, "seedream-5-0-260128"),
        "seedream-volc": ("ark", True, "doubao-seedream-5-0-260128"),
        "seedream-4": ("ark", True, "seedream-4-0-250828"),
        "gpt-image-1": ("openai", True, "gpt-image-1"),
        "dall-e-3": ("openai", True, "dall-e-3"),
        "local-sd": ("diffusers", True, "tiny-sd"),
    }


def test_each_model_says_what_deep_thinking_does_there(account, catalog):
    models = listed(account())

    typeset = models["seedream-5.0-lite"]["deep_thinking"]
    assert typeset == TypesetEngine.deep_thinking and "keeps the best-scored" in typeset
    ark = models["seedream-ark"]["deep_thinking"]
    assert ark == ArkEngine.deep_thinking
    assert "optimize_prompt_options" in ark and "thinking: enabled (mode: standard)" in ark
    openai = models["gpt-image-1"]["deep_thinking"]
    assert openai == OpenAICompatEngine.deep_thinking and openai.startswith("Nothing")
    # The diffusers engine says it with the entry's own steps and guidance.
    local = models["local-sd"]["deep_thinking"]
    assert local == "More care: 40 denoising steps instead of 20, guidance 7 (not 5); slower."


def test_exact_text_says_whether_quoted_text_is_typeset_exactly(account, catalog):
    models = listed(account())

    assert models["dall-e-3"]["exact_text"] is True  # the overlay asked for in the entry
    assert models["local-sd"]["exact_text"] is False  # and refused in this one
    assert models["seedream-5.0-lite"]["exact_text"] is True  # the typeset engine letters quotes itself


def test_what_the_models_endpoint_says_matches_what_the_ark_engine_sends(httpserver, settings):
    """The id in /v1/models is the one the request carries: read from one place."""
    picture = io.BytesIO()
    Image.new("RGB", (2560, 2560), (10, 20, 30)).save(picture, "PNG")
    reply = {"data": [{"b64_json": base64.b64encode(picture.getvalue()).decode()}]}
    httpserver.expect_request("/api/v3/images/generations", method="POST").respond_with_json(reply)
    engine = ArkEngine(base_url=httpserver.url_for("/api/v3"), api_key="sk-test")

    engine.render(spec(aspect_ratio="1:1", deep_thinking=True).with_seed(), lambda fraction, note: None)
    sent = httpserver.log[0][0].get_json()
    assert sent["model"] == engine.describe()["upstream_model"] == "seedream-5-0-260128"
    assert sent["optimize_prompt_options"] == {"thinking": "enabled", "mode": "standard"}


def test_a_diffusers_folder_from_a_hugging_face_cache_names_its_repo(tmp_path: Path):
    snapshot = tmp_path / "models--stabilityai--sdxl-turbo" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    assert DiffusersEngine(path=str(snapshot)).describe()["upstream_model"] == "stabilityai/sdxl-turbo"
    assert DiffusersEngine().describe()["upstream_model"] is None  # not configured: nothing to name


def test_the_openapi_document_describes_the_new_fields(account):
    schemas = account().http.get("/openapi.json").json()["components"]["schemas"]
    props = schemas["ModelInfo"]["properties"]
    assert {"upstream_model", "deep_thinking", "exact_text"} <= set(props)
    assert "typesetter" in props["exact_text"]["description"]


# --- The studio's form says the same ------------------------------------------------------


@pytest.fixture
def studio(client, make_user):
    client.force_login(make_user(tier="pro", credits=100))
    return client


def test_the_form_shows_the_chosen_models_facts_and_its_deep_thinking(studio, settings, catalog):
    # The form starts on the default model id, here served by ark; a typeset preview is the other choice.
    settings.STUDIO_MODELS = {"seedream-5.0-lite": catalog["seedream-ark"], "preview": catalog["seedream-5.0-lite"]}
    content = html.unescape(studio.get("/").content.decode())

    facts = re.search(r"<div [^>]*data-model-facts.*?</div>", content, re.S).group(0)
    assert re.search(r"data-fact-engine>ark<", facts) and "<span data-fact-kind> · neural model<" in facts
    assert "<code data-fact-upstream>seedream-5-0-260128</code>" in facts
    help_text = re.search(r"<span data-deep-help>(.*?)</span>", content, re.S).group(1)
    assert help_text == f"{ArkEngine.deep_thinking} It costs nothing extra."
    # Every option carries its own facts, for the form to show when it is chosen.
    option = re.search(r'<option value="preview"[^>]*>', content).group(0)
    assert 'data-engine="typeset"' in option and 'data-upstream=""' in option and 'data-offline="1"' in option
    assert f'data-deep="{TypesetEngine.deep_thinking}"' in option


def test_a_single_offline_model_says_so_and_runs_no_model(studio, settings, catalog):
    settings.STUDIO_MODELS = {"seedream-5.0-lite": catalog["seedream-5.0-lite"]}
    content = studio.get("/").content.decode()

    facts = re.search(r"<div [^>]*data-model-facts.*?</div>", content, re.S).group(0)
    assert "data-fact-engine>typeset<" in facts and "data-fact-kind hidden> · neural model" in facts
    assert "Offline preview" in content  # the badge beside the model's name says what it is
    assert re.search(r"data-fact-upstream-item hidden", facts)
