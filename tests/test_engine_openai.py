"""The `openai` engine against a fake OpenAI images API on loopback that speaks its documented protocol.

The fake refuses what OpenAI refuses: a size the model does not take, n above 1 for
dall-e-3, and `response_format` for the GPT image models, so each test shows what Studio
sends for each model and what it makes of OpenAI's account errors.
"""

from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
from PIL import Image
from werkzeug import Request, Response

from generations.engines import EngineError
from generations.engines.openai_compat import OpenAICompatEngine
from generations.specs import ASPECT_RATIOS, Spec
from tests.helpers import engine_spec as spec

KEY = "sk-openai-test-0123456789-SECRET"
ENDPOINT = "/v1/images/generations"
FIXED_SIZES = {
    "dall-e-2": {"256x256", "512x512", "1024x1024"},
    "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"},
    "gpt-image-1": {"1024x1024", "1536x1024", "1024x1536", "auto"},
    "chatgpt-image-latest": {"1024x1024", "1536x1024", "1024x1536", "auto"},
}
DALL_E_3_SIZE_FOR = {
    "1:1": "1024x1024",
    "16:9": "1792x1024",
    "9:16": "1024x1792",
    "4:3": "1792x1024",
    "3:4": "1024x1792",
    "3:2": "1792x1024",
}
GPT_IMAGE_2_SIZE_FOR = {
    "1:1": "1024x1024",
    "16:9": "1360x768",
    "9:16": "768x1360",
    "4:3": "1152x864",  # 1184x888: 888 is no multiple of 16; the nearest 4:3 size that is
    "3:4": "864x1152",
    "3:2": "1248x832",
}


def openai_error(status: int, message: str, *, type_: str = "invalid_request_error", **extra: object) -> Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": None, **extra}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def size_refusal(model: str, size: str) -> str | None:
    if model == "gpt-image-2":
        width, _, height = size.partition("x")
        ok = width.isdigit() and height.isdigit() and int(width) % 16 == 0 and int(height) % 16 == 0
        if ok and 1 / 3 <= int(width) / int(height) <= 3:
            return None
        return f"Invalid size '{size}'. Both sides must be multiples of 16 and the ratio within 1:3 and 3:1."
    if size in FIXED_SIZES[model]:
        return None
    return f"Invalid value: '{size}'. Supported values are: {', '.join(sorted(FIXED_SIZES[model]))}."


def fake_openai(request: Request) -> Response:
    if request.headers.get("Authorization") != f"Bearer {KEY}":
        return openai_error(401, "Incorrect API key provided.", code="invalid_api_key")
    body = request.get_json()
    model = body["model"]
    if model not in FIXED_SIZES and model != "gpt-image-2":
        return openai_error(404, f"The model `{model}` does not exist.", code="model_not_found")
    if "response_format" in body and not model.startswith("dall-e"):
        return openai_error(
            400, "Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter"
        )
    if model == "dall-e-3" and body.get("n", 1) != 1:
        return openai_error(400, "You must provide n=1 for this model.", param="n")
    refusal = size_refusal(model, body["size"])
    if refusal:
        return openai_error(400, refusal, param="size", code="invalid_value")
    width, _, height = body["size"].partition("x")
    out = io.BytesIO()
    Image.new("RGB", (int(width), int(height)), (10, 120, 60)).save(out, "PNG")
    reply = {"created": 1, "data": [{"b64_json": base64.b64encode(out.getvalue()).decode()}]}
    return Response(json.dumps(reply), content_type="application/json")


def render(httpserver, the_spec: Spec | None = None, **options: object):
    engine = OpenAICompatEngine(**{"base_url": httpserver.url_for("/v1"), "api_key": KEY, **options})
    return engine.render(the_spec or spec(), lambda fraction, note: None)


def sent(httpserver) -> dict:
    return httpserver.log[-1][0].get_json()


# --- Sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
def test_dall_e_3_gets_its_own_size_nearest_the_ratio_and_one_image(ratio, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    result = render(httpserver, spec(aspect_ratio=ratio), model="dall-e-3")

    assert (sent(httpserver)["size"], sent(httpserver)["n"]) == (DALL_E_3_SIZE_FOR[ratio], 1)
    assert result.image.size == ASPECT_RATIOS[ratio]


@pytest.mark.parametrize("ratio", ["1:1", "16:9", "3:4"])
def test_dall_e_2_gets_its_largest_square(ratio, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    render(httpserver, spec(aspect_ratio=ratio), model="dall-e-2")

    assert sent(httpserver)["size"] == "1024x1024"


@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
def test_gpt_image_2_gets_the_specs_own_size_where_it_qualifies_else_the_nearest_that_does(ratio, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    result = render(httpserver, spec(aspect_ratio=ratio), model="gpt-image-2")

    assert sent(httpserver)["size"] == GPT_IMAGE_2_SIZE_FOR[ratio]
    assert result.image.size == ASPECT_RATIOS[ratio]
    assert (result.info["fitted"] == "as sent") is (
        GPT_IMAGE_2_SIZE_FOR[ratio] == "{}x{}".format(*ASPECT_RATIOS[ratio])
    )


@pytest.mark.parametrize(("ratio", "size"), [("1:1", "1024x1024"), ("16:9", "1536x1024"), ("9:16", "1024x1536")])
def test_gpt_image_1_keeps_its_three_sizes(ratio, size, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    render(httpserver, spec(aspect_ratio=ratio), model="gpt-image-1")

    assert sent(httpserver)["size"] == size


# --- response_format -----------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-2", "chatgpt-image-latest"])
def test_gpt_image_models_are_sent_no_response_format(model, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    render(httpserver, model=model)

    assert "response_format" not in sent(httpserver)


@pytest.mark.parametrize("model", ["dall-e-2", "dall-e-3"])
def test_dall_e_models_are_asked_for_base64(model, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    result = render(httpserver, model=model)

    assert sent(httpserver)["response_format"] == "b64_json" and result.info["delivered_as"] == "b64_json"


# --- Account errors ------------------------------------------------------------------------


def failure(httpserver, status: int, body: dict) -> EngineError:
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_json(body, status=status)
    with pytest.raises(EngineError) as caught:
        render(httpserver, model="gpt-image-1")
    assert KEY not in str(caught.value)
    return caught.value


def test_an_account_out_of_quota_stops_for_the_operator_and_is_not_retried(httpserver):
    message = "You exceeded your current quota, please check your plan and billing details."
    error = failure(
        httpserver, 429, {"error": {"message": message, "type": "insufficient_quota", "code": "insufficient_quota"}}
    )

    assert (error.code, error.transient) == ("generation_failed", False)
    assert "out of quota" in str(error) and "billing" in str(error)


def test_a_rate_limited_request_is_transient(httpserver):
    body = {
        "error": {
            "message": "Rate limit reached for images per minute.",
            "type": "requests",
            "code": "rate_limit_exceeded",
        }
    }

    assert failure(httpserver, 429, body).transient is True


def test_an_unverified_organization_is_its_own_operator_message_not_a_bad_key(httpserver):
    message = (
        "Your organization must be verified to use the model `gpt-image-1`. Please go to: "
        "https://platform.openai.com/settings/organization/general and click on Verify Organization."
    )
    error = failure(httpserver, 403, {"error": {"message": message, "type": "invalid_request_error", "code": None}})

    assert (error.code, error.transient) == ("generation_failed", False)
    assert "organization to be verified" in str(error) and "refused the operator's API key" not in str(error)


# --- Timeout -------------------------------------------------------------------------------


def test_the_default_timeout_is_openai_pythons_600_seconds(httpserver, monkeypatch):
    timeouts: list[object] = []

    class RecordingClient(httpx.Client):
        def __init__(self, **kwargs: object) -> None:
            timeouts.append(kwargs.get("timeout"))
            super().__init__(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Client", RecordingClient)
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_openai)
    render(httpserver, model="gpt-image-1")
    render(httpserver, model="gpt-image-1", timeout=30)

    assert timeouts == [600.0, 30.0]
