"""The `ark` engine against a fake BytePlus ModelArk on loopback that speaks its documented protocol.

The fake refuses what ModelArk refuses (an unknown model, a size under the model's floor,
an unknown optimize_prompt_options value, a seed out of range) and answers 5.0 Lite in
JPEG unless asked for PNG, so each test shows what Studio sends and makes of the reply.
"""

from __future__ import annotations

import base64
import io
import json
import threading

import httpx
import pytest
from PIL import Image
from werkzeug import Request, Response

from generations.engines import EngineError
from generations.engines.ark import ArkEngine, default_model
from generations.specs import Spec
from tests.helpers import engine_spec as spec

KEY = "sk-ark-test-0123456789-SECRET"
COLOUR = (40, 90, 200)
# Model id -> the smallest and largest total pixels ModelArk documents for it.
PIXEL_RANGE = {
    "seedream-4-0-250828": (921_600, 16_777_216),
    "seedream-5-0-260128": (3_686_400, 9_437_184),
    "seedream-5-0-pro-260628": (921_600, 4_624_000),
    "seedream-5-0-flash-260628": (921_600, 4_624_000),
}
ENDPOINT = "/api/v3/images/generations"


def encoded(size: tuple[int, int], image_format: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, COLOUR).save(out, image_format)
    return out.getvalue()


def ark_error(status: int, code: str, message: str) -> Response:
    body = {"error": {"code": code, "message": message, "type": "BadRequest"}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def fake_modelark(request: Request) -> Response:
    if request.headers.get("Authorization") != f"Bearer {KEY}":
        return ark_error(401, "AuthenticationError", "The API key in the request is missing or invalid.")
    body = request.get_json()
    if body["model"] not in PIXEL_RANGE:
        return ark_error(404, "InvalidEndpointOrModel.NotFound", "The model or endpoint does not exist.")
    low, high = PIXEL_RANGE[body["model"]]
    width, _, height = body["size"].partition("x")
    if not low <= int(width) * int(height) <= high:
        return ark_error(400, "InvalidParameter", "The parameter `size` specified in the request is not valid.")
    options = body.get("optimize_prompt_options", {})
    if options.get("thinking", "enabled") not in ("enabled", "disabled") or options.get("mode", "standard") not in (
        "standard",
        "fast",
    ):
        return ark_error(400, "InvalidParameter", "optimize_prompt_options is not valid.")
    if not -1 <= body.get("seed", -1) <= 2**31 - 1:
        return ark_error(400, "InvalidParameter", "The parameter `seed` specified in the request is not valid.")
    image_format = "PNG" if body.get("output_format") == "png" else "JPEG"
    data = base64.b64encode(encoded((int(width), int(height)), image_format)).decode()
    reply = {"model": body["model"], "data": [{"b64_json": data, "size": body["size"]}], "usage": {}}
    return Response(json.dumps(reply), content_type="application/json")


def render(httpserver, the_spec: Spec | None = None, **options: object):
    engine = ArkEngine(**{"base_url": httpserver.url_for("/api/v3"), "api_key": KEY, **options})
    return engine.render(the_spec or spec(), lambda fraction, note: None)


def failure(httpserver, **options: object) -> EngineError:
    with pytest.raises(EngineError) as caught:
        render(httpserver, **options)
    assert KEY not in str(caught.value)
    return caught.value


def sent(httpserver) -> dict:
    return httpserver.log[0][0].get_json()


# --- The request ---------------------------------------------------------------------------


def test_deep_thinking_on_asks_seedream_to_think_in_standard_mode(httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    result = render(httpserver, spec(deep_thinking=True))

    assert sent(httpserver)["optimize_prompt_options"] == {"thinking": "enabled", "mode": "standard"}
    assert "thinking: enabled" in result.plan["deep_thinking_upstream"]
    assert "no deep-thinking switch" not in json.dumps(result.plan)


def test_deep_thinking_off_switches_seedreams_thinking_off(httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    result = render(httpserver, spec(deep_thinking=False))

    assert sent(httpserver)["optimize_prompt_options"] == {"thinking": "disabled"}
    assert "thinking: disabled" in result.plan["deep_thinking_upstream"]


def test_the_default_model_is_seedream_5_0_lite(httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    result = render(httpserver)

    assert sent(httpserver)["model"] == "seedream-5-0-260128"
    assert result.plan["upstream_model"] == result.info["upstream_model"] == "seedream-5-0-260128"


def test_the_options_model_still_overrides_the_default(httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    render(httpserver, model="seedream-4-0-250828")

    assert sent(httpserver)["model"] == "seedream-4-0-250828"


@pytest.mark.parametrize(
    ("base_url", "model"),
    [
        ("https://ark.cn-beijing.volces.com/api/v3", "doubao-seedream-5-0-260128"),
        ("https://ark.ap-southeast.bytepluses.com/api/v3", "seedream-5-0-260128"),
    ],
)
def test_volcengine_names_seedream_5_0_lite_with_the_doubao_prefix(base_url, model):
    assert default_model(base_url) == model


def test_the_picture_is_asked_for_as_png(httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    render(httpserver)

    assert sent(httpserver)["output_format"] == "png"


@pytest.mark.parametrize("model", ["seedream-5-0-pro-260628", "seedream-5-0-flash-260628"])
def test_seedream_5_0_pro_and_flash_get_the_specs_own_size_within_their_range(model, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    result = render(httpserver, spec(aspect_ratio="16:9"), model=model)

    assert sent(httpserver)["size"] == "1360x768"
    assert result.info["fitted"] == "as sent"


@pytest.mark.parametrize(("model", "size"), [("seedream-4-0-250828", "1360x768"), ("seedream-5-0-260128", "2555x1443")])
def test_seedream_4_0_and_5_0_lite_keep_their_documented_floors(model, size, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    result = render(httpserver, spec(aspect_ratio="16:9"), model=model)

    assert sent(httpserver)["size"] == size
    assert result.image.size == (1360, 768)


@pytest.mark.parametrize("model", ["seedream-4-0-250828", "seedream-5-0-260128", "seedream-5-0-pro-260628"])
def test_the_plan_says_the_seed_has_no_effect_on_seedream_4_0_and_later(model, httpserver):
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    result = render(httpserver, model=model)

    assert sent(httpserver)["seed"] == result.plan["upstream_seed"] == 42
    assert result.plan["upstream_seed_effect"].startswith("none:")


# --- Failures ------------------------------------------------------------------------------


def error_reply(httpserver, status: int, code: str, message: str) -> None:
    body = {"error": {"code": code, "message": message, "type": "Forbidden"}}
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_json(body, status=status)


def test_an_exhausted_model_quota_stops_for_the_operator_and_is_not_retried(httpserver):
    error_reply(httpserver, 429, "ModelQuotaExhausted", "The free quota of the model has been exhausted.")
    error = failure(httpserver)

    assert (error.code, error.transient) == ("generation_failed", False)
    assert "quota for this model is exhausted" in str(error) and "ModelQuotaExhausted" in str(error)


def test_a_429_that_mentions_an_exhausted_quota_stops_for_the_operator(httpserver):
    error_reply(httpserver, 429, "QuotaExceeded", "Your account's quota is exhausted.")

    assert failure(httpserver).transient is False


def test_a_rate_limited_request_is_still_transient(httpserver):
    error_reply(httpserver, 429, "RateLimitExceeded.EndpointIPMRateLimitExceeded", "Too many images per minute.")

    assert failure(httpserver).transient is True


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (403, "AccountOverdueError", "account is overdue"),
        (403, "AccessDenied", "no access to this model"),
        (404, "ModelNotOpen", "not activated"),
        (401, "AuthenticationError", "refused the operator's API key"),
    ],
)
def test_each_account_problem_has_its_own_operator_message(status, code, words, httpserver):
    error_reply(httpserver, status, code, "The request was refused.")
    error = failure(httpserver)

    assert (error.code, error.transient) == ("generation_failed", False)
    assert words in str(error) and code in str(error)
    if code != "AuthenticationError":
        assert "refused the operator's API key" not in str(error)


def test_a_temporarily_closed_endpoint_is_transient(httpserver):
    error_reply(httpserver, 400, "InvalidEndpoint.ClosedEndpoint", "The endpoint is closed temporarily.")
    error = failure(httpserver)

    assert error.transient is True and "temporarily closed" in str(error)


def test_a_request_that_times_out_is_not_retried_because_it_may_still_be_billed(httpserver):
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(10)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(stall)
    try:
        error = failure(httpserver, timeout=0.3)
    finally:
        release.set()
    assert (error.code, error.transient) == ("generation_failed", False)
    assert "did not answer within 0.3 s" in str(error) and "may still be billed" in str(error)
    assert len(httpserver.log) <= 1


def test_the_default_timeout_outlasts_seedream_5_0_pro(httpserver, monkeypatch):
    timeouts: list[object] = []

    class RecordingClient(httpx.Client):
        def __init__(self, **kwargs: object) -> None:
            timeouts.append(kwargs.get("timeout"))
            super().__init__(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Client", RecordingClient)
    httpserver.expect_request(ENDPOINT, method="POST").respond_with_handler(fake_modelark)
    render(httpserver)
    render(httpserver, timeout=240)

    assert timeouts == [180.0, 240.0]
