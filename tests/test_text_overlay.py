"""Exact text on neural engines: the quotes lettered by the typeset planner onto the model's picture.

With a tiny diffusers pipeline (random weights: its pictures are noise) and the fake
OpenAI and ModelArk servers on loopback, each test shows what the model was asked for
(clear space, never the quoted words), what was lettered where (the exact strings, in
boxes whose pixels changed and reach the recorded contrast), and which models do it by
default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from django.core.files.storage import default_storage
from PIL import Image, ImageChops, ImageFilter, ImageStat

from accounts import ledger
from generations.engines import engine_for_model
from generations.engines.ark import ArkEngine
from generations.engines.diffusers_engine import DiffusersEngine
from generations.engines.openai_compat import OpenAICompatEngine
from generations.engines.overlay import NO_TEXT_NEGATIVE, ExactText, exact_text_on
from generations.engines.typeset.engine import TypesetEngine
from generations.engines.typeset.lettering import CLEAR_SPACE, CLEAR_SPACE_NOTE, prompt_for_picture
from generations.engines.typeset.paint import hex_rgb
from generations.engines.typeset.text import contrast
from generations.models import Generation
from generations.specs import Spec, SpecError, build_spec
from tests.api_support import assert_error, poll_until_finished
from tests.diffusers_models import build_tiny_sd
from tests.test_engine_ark import fake_modelark
from tests.test_engine_openai import fake_openai

torch.set_num_threads(1)  # the CI machine has two cores, shared with the other tests

OPENAI_KEY = "sk-openai-test-0123456789-SECRET"  # what tests.test_engine_openai's fake accepts
ARK_KEY = "sk-ark-test-0123456789-SECRET"
OPENAI_UPSTREAM = (10, 120, 60)  # the flat colour the fake OpenAI answers with
FAST = {"steps": 2, "max_side": 64}
PROMPT = "A neon diner at night with a sign 'OPEN LATE'"


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("diffusers") / "tiny-sd")


def spec(**fields: object) -> Spec:
    return Spec(**{"model": "m", "prompt": PROMPT, "seed": 42, **fields})


def silent(fraction: float, note: str) -> None:
    pass


def openai(httpserver, **options: object) -> OpenAICompatEngine:
    return OpenAICompatEngine(
        **{"base_url": httpserver.url_for("/v1"), "api_key": OPENAI_KEY, "model": "dall-e-3", **options}
    )


def sent_prompts(httpserver) -> list[str]:
    return [request.get_json()["prompt"] for request, _ in httpserver.log]


def outside(diff: Image.Image, boxes: list[list[int]]) -> Image.Image:
    """`diff` with every box blacked out: what changed anywhere else."""
    diff = diff.copy()
    for box in boxes:
        diff.paste((0, 0, 0), tuple(box))
    return diff


def letter_contrast(image: Image.Image, entry: dict) -> float:
    """The WCAG contrast between the letters' fill and what really borders them in `image`:
    the median of the pixels two to three pixels out from the fill (outline, plate or ground)."""
    crop = image.crop(tuple(entry["box"]))
    fill = hex_rgb(entry["color"])
    r, g, b = ImageChops.difference(crop, Image.new("RGB", crop.size, fill)).split()
    letters = ImageChops.lighter(ImageChops.lighter(r, g), b).point(lambda v: 255 if v < 12 else 0)
    assert letters.histogram()[255] > 0.02 * crop.width * crop.height, "no letters of the recorded colour in the box"
    ring = ImageChops.subtract(letters.filter(ImageFilter.MaxFilter(7)), letters.filter(ImageFilter.MaxFilter(3)))
    grey = crop.convert("L")
    values = sorted(v for v, edge in zip(grey.tobytes(), ring.tobytes(), strict=True) if edge)
    median = values[len(values) // 2]
    return contrast(fill, (median, median, median))


def assert_lettered(result, plain: Image.Image, texts: list[str]) -> dict:
    """The overlay holds exactly `texts`, drew each inside its box (nothing changed outside),
    and the letters reach the contrast the plan records against the model's real pixels."""
    overlay = result.plan["text_overlay"]
    assert overlay["applied"] is True
    assert overlay["texts"] == texts
    for entry, box in zip(overlay["text_boxes"], overlay["boxes"], strict=True):
        separator = "" if all(ord(ch) > 0x2E80 for ch in entry["text"].replace(" ", "")) else " "
        assert separator.join(entry["lines"]) == entry["text"] and entry["box"] == box
        assert entry["contrast"] >= entry["contrast_min"]
        measured = letter_contrast(result.image, entry)
        assert measured >= entry["contrast_min"], (measured, entry)
    diff = ImageChops.difference(result.image, plain)
    assert outside(diff, overlay["boxes"]).getbbox() is None  # the model's picture elsewhere, byte for byte
    for box in overlay["boxes"]:
        assert sum(ImageStat.Stat(diff.crop(tuple(box))).mean) / 3 > 8  # and the letters really were painted
    return overlay


# --- The prompt the model gets -------------------------------------------------------------


def test_the_model_is_asked_for_clear_space_instead_of_the_quoted_words():
    sent = prompt_for_picture("Poster 'GRAND OPENING' over a city, and \u201cSat 9am\u201d below")
    assert "GRAND OPENING" not in sent and "Sat 9am" not in sent
    assert sent.count(CLEAR_SPACE) == 2 and "over a city" in sent and sent.endswith(CLEAR_SPACE_NOTE)
    assert prompt_for_picture("A quiet lake, don't add people") == "A quiet lake, don't add people"


# --- diffusers (tiny Stable Diffusion) -----------------------------------------------------


def test_diffusers_picture_gets_the_exact_text_drawn_over_it(model_folder):
    inner = DiffusersEngine(path=str(model_folder), **FAST)
    notes: list[tuple[float, str]] = []
    result = ExactText(inner).render(spec(), lambda f, n: notes.append((f, n)))
    # The model's own picture for what it was sent, same seed: the same pixels.
    asked = spec(prompt=prompt_for_picture(PROMPT), negative_prompt=NO_TEXT_NEGATIVE)
    plain = inner.render(asked, silent).image

    overlay = assert_lettered(result, plain, ["OPEN LATE"])
    assert "OPEN LATE" not in overlay["prompt_sent"] and overlay["prompt_sent"] == result.plan["prompt_sent"]
    assert overlay["negative_prompt_sent"] == NO_TEXT_NEGATIVE  # the tiny SD takes a negative prompt
    assert result.info["engine"] == "diffusers"
    fractions = [f for f, _ in notes]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert max(f for f, n in notes if n not in ("lettering", "done")) <= 0.9
    assert [n for _, n in notes][-2:] == ["lettering", "done"]


def test_a_prompt_that_quotes_nothing_leaves_the_picture_as_the_model_made_it(model_folder):
    inner = DiffusersEngine(path=str(model_folder), **FAST)
    wrapped = ExactText(inner).render(spec(prompt="A lighthouse at dusk"), silent)
    plain = inner.render(spec(prompt="A lighthouse at dusk"), silent)

    assert wrapped.plan["text_overlay"] == {"applied": False, "reason": "the prompt quotes no text"}
    assert wrapped.plan["prompt_sent"] == "A lighthouse at dusk"
    assert ImageChops.difference(wrapped.image, plain.image).getbbox() is None


def test_diffusers_has_exact_text_by_default_and_the_operator_can_turn_it_off(settings, model_folder):
    settings.STUDIO_MODELS = {
        "sd": {"engine": "diffusers", "options": {"path": str(model_folder), **FAST}},
        "sd-raw": {"engine": "diffusers", "options": {"path": str(model_folder), **FAST, "exact_text": False}},
    }
    on, off = engine_for_model("sd"), engine_for_model("sd-raw")
    assert isinstance(on, ExactText) and not isinstance(off, ExactText)
    assert (on.name, on.label, on.neural) == (off.name, off.label, off.neural) == ("diffusers", off.label, True)
    assert on.describe() == {**off.describe(), "exact_text": True}
    assert (on.upstream_model, on.deep_thinking_effect()) == (off.upstream_model, off.deep_thinking_effect())

    raw = off.render(spec(), silent)
    assert "text_overlay" not in raw.plan and "OPEN LATE" in raw.plan["prompt_sent"]  # untouched: as it was
    plain = DiffusersEngine(path=str(model_folder), **FAST).render(spec(), silent)
    assert ImageChops.difference(raw.image, plain.image).getbbox() is None


# --- OpenAI-compatible (dall-e-3 on, gpt-image-* off) --------------------------------------


def test_dall_e_3_gets_clear_space_and_the_text_is_lettered_on_its_picture(httpserver):
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake_openai)
    prompt = "Magazine cover with the headline 'The Quiet Revolution of Small Machines' and 'ISSUE 42'"
    result = ExactText(openai(httpserver)).render(spec(prompt=prompt, aspect_ratio="9:16"), silent)

    (sent,) = sent_prompts(httpserver)
    assert "Quiet Revolution" not in sent and "ISSUE 42" not in sent and CLEAR_SPACE in sent
    plain = Image.new("RGB", result.image.size, OPENAI_UPSTREAM)
    overlay = assert_lettered(result, plain, ["The Quiet Revolution of Small Machines", "ISSUE 42"])
    assert overlay["prompt_sent"] == sent == result.plan["prompt_sent"]
    assert overlay["negative_prompt_sent"] is None  # the OpenAI images API takes no negative prompt
    assert len(overlay["text_boxes"][0]["lines"]) > 1  # a two-line headline, broken between words


def test_cjk_text_is_lettered_from_the_cjk_font(httpserver):
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake_openai)
    result = ExactText(openai(httpserver)).render(
        spec(prompt="Festival poster '新年快乐'", aspect_ratio="16:9"), silent
    )

    assert "新年快乐" not in sent_prompts(httpserver)[0]
    overlay = assert_lettered(result, Image.new("RGB", result.image.size, OPENAI_UPSTREAM), ["新年快乐"])
    assert overlay["text_boxes"][0]["font"] == "NotoSansCJKsc-Bold-subset"


@pytest.mark.parametrize(("model", "wrapped"), [("dall-e-2", True), ("dall-e-3", True), ("gpt-image-1", False)])
def test_openai_models_that_cannot_spell_get_exact_text_by_default(model, wrapped, settings, httpserver):
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake_openai)
    options = {"base_url": httpserver.url_for("/v1"), "api_key": OPENAI_KEY, "model": model}
    settings.STUDIO_MODELS = {"m": {"engine": "openai", "options": options}}
    engine = engine_for_model("m")
    result = engine.render(spec(), silent)

    assert isinstance(engine, ExactText) is wrapped and engine.name == "openai"
    assert ("OPEN LATE" in sent_prompts(httpserver)[0]) is not wrapped
    flat = ImageChops.difference(result.image, Image.new("RGB", result.image.size, OPENAI_UPSTREAM)).getbbox() is None
    assert flat is not wrapped  # gpt-image-1's picture is left exactly as it came
    assert ("text_overlay" in result.plan) is wrapped


# --- ModelArk (Seedream spells well: off unless the operator asks) -------------------------


def test_seedream_is_left_alone_by_default_and_lettered_when_the_operator_asks(settings, httpserver):
    httpserver.expect_request("/api/v3/images/generations", method="POST").respond_with_handler(fake_modelark)
    options = {"base_url": httpserver.url_for("/api/v3"), "api_key": ARK_KEY, "model": "seedream-4-0-250828"}
    settings.STUDIO_MODELS = {
        "seedream": {"engine": "ark", "options": options},
        "seedream-exact": {"engine": "ark", "options": {**options, "exact_text": True}},
    }
    alone, lettered = engine_for_model("seedream"), engine_for_model("seedream-exact")
    assert isinstance(alone, ArkEngine) and not isinstance(alone, ExactText)
    assert isinstance(lettered, ExactText) and lettered.label == alone.label

    untouched = alone.render(spec(), silent)
    assert "OPEN LATE" in sent_prompts(httpserver)[0] and "text_overlay" not in untouched.plan
    result = lettered.render(spec(), silent)
    assert "OPEN LATE" not in sent_prompts(httpserver)[1]
    assert_lettered(result, untouched.image, ["OPEN LATE"])


def test_typeset_is_never_wrapped_it_letters_text_itself(settings):
    entry = {"engine": "typeset", "options": {"exact_text": True}}
    settings.STUDIO_MODELS = {"t": entry}
    assert not exact_text_on(entry)
    assert type(engine_for_model("t")) is TypesetEngine


# --- Refusals before any charge ------------------------------------------------------------


def test_text_no_font_can_draw_is_refused_for_exact_text_models_before_charging(account, settings):
    settings.STUDIO_MODELS = {
        "sd": {"engine": "diffusers", "options": {"path": "/nowhere"}},
        "seedream": {"engine": "ark", "options": {}},
    }
    acct = account(credits=1000)
    response = acct.http.post("/images/generate", json={"model": "sd", "prompt": "Poster 'Launch 🚀 today'"})
    assert "U+1F680" in assert_error(response, 400, "invalid_prompt")
    assert not Generation.objects.exists() and ledger.balance(acct.user) == 1000

    # A model that letters nothing itself sends the words to the model as they are.
    assert build_spec({"model": "seedream", "prompt": "Poster 'Launch 🚀 today'"}).prompt
    with pytest.raises(SpecError):
        build_spec({"model": "sd", "prompt": "Poster 'ሰላም 🚀'"})


# --- End to end ----------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_letters_the_text_onto_a_dall_e_picture(account, start_worker, settings, httpserver):
    httpserver.expect_request("/v1/images/generations", method="POST").respond_with_handler(fake_openai)
    options = {"base_url": httpserver.url_for("/v1"), "api_key": OPENAI_KEY, "model": "dall-e-3"}
    catalog = {"seedream-5.0-lite": {"engine": "openai", "options": options}}
    settings.STUDIO_MODELS = catalog
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(catalog))
    acct = account(credits=100)

    submitted = acct.http.post("/images/generate", json={"model": "seedream-5.0-lite", "prompt": PROMPT})
    assert submitted.status_code == 200, submitted.text
    result = poll_until_finished(acct, submitted.json()["task_id"], worker)
    assert result["status"] == "completed", result

    assert "OPEN LATE" not in sent_prompts(httpserver)[0]
    generation = Generation.objects.get(public_id=submitted.json()["task_id"])
    overlay = generation.plan["text_overlay"]
    assert overlay["applied"] is True and overlay["texts"] == ["OPEN LATE"]
    with Image.open(default_storage.open(generation.image_png)) as stored:
        image = stored.convert("RGB")
    plain = Image.new("RGB", image.size, OPENAI_UPSTREAM)
    assert outside(ImageChops.difference(image, plain), overlay["boxes"]).getbbox() is None
    assert letter_contrast(image, overlay["text_boxes"][0]) >= overlay["text_boxes"][0]["contrast_min"]
