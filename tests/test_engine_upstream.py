"""The upstream engines (`ark`, `openai`) against fake providers on loopback (pytest-httpserver).

Each test states what the provider receives or what Studio makes of the reply: the exact
request, the picture fitted to the spec's size, and each kind of failure mapped to the
API's error codes. One end-to-end test runs a real worker against a fake ModelArk.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading

import httpx
import pytest
from PIL import Image
from werkzeug import Request, Response

from generations.engines import EngineError
from generations.engines.ark import ArkEngine
from generations.engines.openai_compat import OpenAICompatEngine
from generations.specs import ASPECT_RATIOS, Spec
from tests.api_support import poll_until_finished

KEY = "sk-test-0123456789-SECRET"
COLOUR = (214, 72, 38)
ENGINES = {
    "ark": (ArkEngine, "/api/v3", {"model": "seedream-4-0-250828"}),
    "openai": (OpenAICompatEngine, "/v1", {"model": "test-image-model"}),
}
BOTH = pytest.mark.parametrize("kind", list(ENGINES))
OPENAI_SIZE_FOR = {
    "1:1": "1024x1024",
    "16:9": "1536x1024",
    "9:16": "1024x1536",
    "4:3": "1536x1024",
    "3:4": "1024x1536",
    "3:2": "1536x1024",
}


def png(size: tuple[int, int] = (1000, 1000), colour: tuple[int, int, int] = COLOUR) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def b64_reply(data: bytes, **extra: object) -> dict:
    return {"data": [{"b64_json": base64.b64encode(data).decode(), **extra}], "usage": {"generated_images": 1}}


def spec(**fields: object) -> Spec:
    return Spec(**{"model": "seedream-5.0-lite", "prompt": "A lighthouse at dusk", "seed": 42, **fields})


def engine(kind: str, httpserver, **options: object):
    cls, prefix, defaults = ENGINES[kind]
    return cls(**{"base_url": httpserver.url_for(prefix), "api_key": KEY, **defaults, **options})


def endpoint(kind: str) -> str:
    return f"{ENGINES[kind][1]}/images/generations"


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction: float, note: str) -> None:
        self.calls.append((fraction, note))


def render(kind: str, httpserver, the_spec: Spec | None = None, **options: object):
    return engine(kind, httpserver, **options).render(the_spec or spec(), Progress())


def failure(kind: str, httpserver, **options: object) -> EngineError:
    with pytest.raises(EngineError) as caught:
        render(kind, httpserver, **options)
    assert KEY not in str(caught.value)
    return caught.value


# --- The request ---------------------------------------------------------------------------


def test_ark_sends_the_model_the_prompt_with_style_and_palette_the_size_the_seed_and_the_key(httpserver):
    httpserver.expect_request(endpoint("ark"), method="POST").respond_with_json(b64_reply(png()))
    the_spec = spec(aspect_ratio="16:9", style="watercolor", colors=("#ff6600", "#003366"), seed=2**32 - 1)
    render("ark", httpserver, the_spec)

    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.get_json() == {
        "model": "seedream-4-0-250828",
        "prompt": "A lighthouse at dusk\nStyle: Watercolor painting effect.\nColour palette: #ff6600, #003366.",
        "size": "1360x768",
        "seed": 2**31 - 1,  # ModelArk's seeds stop at 2**31 - 1
        "response_format": "b64_json",
        "output_format": "png",
        "watermark": False,
        "optimize_prompt_options": {"thinking": "disabled"},
    }


def test_ark_asks_later_seedream_models_for_at_least_their_smallest_size_at_the_same_ratio(httpserver):
    httpserver.expect_request(endpoint("ark")).respond_with_json(b64_reply(png((1920, 1920))))
    result = render("ark", httpserver, spec(style="auto"), model="seedream-5-0-260128")

    body = httpserver.log[0][0].get_json()
    assert (body["size"], body["prompt"]) == ("1920x1920", "A lighthouse at dusk")  # auto adds no style words
    assert result.image.size == (1024, 1024)


def test_openai_sends_model_prompt_nearest_size_one_image_and_base64_format(httpserver):
    httpserver.expect_request(endpoint("openai"), method="POST").respond_with_json(b64_reply(png()))
    render("openai", httpserver, spec(aspect_ratio="3:4", style="neon cyberpunk poster", colors=("#00ffcc",)))

    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.get_json() == {
        "model": "test-image-model",
        "prompt": "A lighthouse at dusk\nStyle: neon cyberpunk poster.\nColour palette: #00ffcc.",
        "size": "1024x1536",
        "n": 1,
        "response_format": "b64_json",
    }


def test_openai_leaves_response_format_out_for_gpt_image_models_and_takes_sizes_as_a_string(httpserver):
    httpserver.expect_request(endpoint("openai")).respond_with_json(b64_reply(png()))
    render("openai", httpserver, spec(aspect_ratio="16:9"), model="gpt-image-1", sizes="1024x1024, 1792x1024")

    body = httpserver.log[0][0].get_json()
    assert "response_format" not in body
    assert body["size"] == "1792x1024"


def test_the_key_is_read_from_the_environment_variable_the_options_name(httpserver, monkeypatch):
    monkeypatch.setenv("STUDIO_TEST_UPSTREAM_KEY", "sk-from-the-environment")
    httpserver.expect_request(endpoint("ark")).respond_with_json(b64_reply(png()))
    render("ark", httpserver, api_key=None, api_key_env="STUDIO_TEST_UPSTREAM_KEY")

    assert httpserver.log[0][0].headers["Authorization"] == "Bearer sk-from-the-environment"


@BOTH
def test_a_missing_key_is_a_clear_error_and_nothing_is_sent(kind, httpserver, monkeypatch):
    monkeypatch.delenv("ARK_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    error = failure(kind, httpserver, api_key=None)

    assert "no API key" in str(error)
    assert ("ARK_API_KEY" if kind == "ark" else "OPENAI_API_KEY") in str(error)
    assert (error.code, error.transient, httpserver.log) == ("generation_failed", False, [])


def test_openai_without_a_base_url_is_a_clear_error():
    with pytest.raises(EngineError, match=r"needs options\.base_url"):
        OpenAICompatEngine(api_key=KEY, model="m").render(spec(), Progress())


# --- The reply -----------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
def test_a_base64_reply_is_fitted_to_the_exact_size_of_every_aspect_ratio(kind, ratio, httpserver):
    httpserver.expect_request(endpoint(kind)).respond_with_json(b64_reply(png((1000, 1000))))
    result = render(kind, httpserver, spec(aspect_ratio=ratio))

    width, height = ASPECT_RATIOS[ratio]
    assert (result.image.mode, result.image.size) == ("RGB", (width, height))
    for xy in ((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1), (width // 2, height // 2)):
        assert result.image.getpixel(xy) == COLOUR  # covered edge to edge: no letterbox bars
    assert result.info["upstream_size"] == "1000x1000"
    if kind == "openai":
        assert httpserver.log[0][0].get_json()["size"] == OPENAI_SIZE_FOR[ratio]


def test_a_wider_reply_is_centre_cropped_not_squeezed(httpserver):
    banded = Image.new("RGB", (2000, 1000), (0, 0, 255))
    banded.paste(Image.new("RGB", (1000, 1000), (0, 200, 0)), (500, 0))  # green middle, blue sides
    out = io.BytesIO()
    banded.save(out, "PNG")
    httpserver.expect_request(endpoint("ark")).respond_with_json(b64_reply(out.getvalue()))
    image = render("ark", httpserver, spec(aspect_ratio="1:1")).image

    assert image.size == (1024, 1024)
    assert {image.getpixel(xy) for xy in ((3, 3), (1020, 3), (512, 512), (3, 1020), (1020, 1020))} == {(0, 200, 0)}


@BOTH
def test_a_url_reply_is_downloaded(kind, httpserver):
    httpserver.expect_request("/files/result.png", method="GET").respond_with_data(
        png((900, 1200)), content_type="image/png"
    )
    reply = {"data": [{"url": httpserver.url_for("/files/result.png")}]}
    httpserver.expect_request(endpoint(kind), method="POST").respond_with_json(reply)
    result = render(kind, httpserver, spec(aspect_ratio="9:16"), response_format="url")

    assert result.image.size == (768, 1360) and result.image.getpixel((10, 10)) == COLOUR
    assert (result.info["delivered_as"], result.info["upstream_size"]) == ("url", "900x1200")
    assert "Authorization" not in httpserver.log[1][0].headers  # the key goes only to the API


@BOTH
def test_progress_is_reported_in_order_and_ends_at_one(kind, httpserver):
    httpserver.expect_request(endpoint(kind)).respond_with_json(b64_reply(png()))
    progress = Progress()
    engine(kind, httpserver).render(spec(), progress)

    fractions = [fraction for fraction, _ in progress.calls]
    assert fractions == sorted(fractions) and progress.calls[-1] == (1.0, "done")
    notes = [note for _, note in progress.calls]
    steps = [next(i for i, note in enumerate(notes) if note.startswith(word)) for word in ("sending to", "waiting for")]
    assert steps[0] < steps[1] < notes.index("decoding") < notes.index("done")


def test_ark_records_what_was_sent_in_the_plan_and_the_upstream_size_in_info(httpserver):
    httpserver.expect_request(endpoint("ark")).respond_with_json(b64_reply(png((2048, 1152))))
    result = render("ark", httpserver, spec(aspect_ratio="16:9", colors=("#112233",), deep_thinking=True))

    sent = httpserver.log[0][0].get_json()
    assert result.plan["prompt_sent"] == sent["prompt"] == "A lighthouse at dusk\nColour palette: #112233."
    assert (result.plan["upstream_model"], result.plan["upstream_size"]) == ("seedream-4-0-250828", "1360x768")
    assert sent["optimize_prompt_options"] == {"thinking": "enabled", "mode": "standard"}
    assert result.plan["deep_thinking"] is True and "enabled" in result.plan["deep_thinking_upstream"]
    assert result.info["upstream_size"] == "2048x1152" and result.info["usage"] == {"generated_images": 1}
    assert json.dumps(result.plan) and KEY not in json.dumps([result.plan, result.info])


def test_openai_records_that_deep_thinking_is_not_sent_and_the_revised_prompt(httpserver):
    reply = b64_reply(png(), revised_prompt="A tall lighthouse at dusk, soft light")
    httpserver.expect_request(endpoint("openai")).respond_with_json(reply)
    result = render("openai", httpserver, spec(deep_thinking=True))

    assert "not supported" in result.plan["deep_thinking_upstream"]
    assert result.plan["revised_prompt"] == "A tall lighthouse at dusk, soft light"
    assert result.plan["upstream_size"] == "1024x1024" and result.info["provider"].startswith("localhost:")


# --- Failures ------------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_fails_for_the_operator_without_retry_and_without_the_key(kind, status, httpserver):
    body = {"error": {"code": "AuthenticationError", "message": f"The API key {KEY} is invalid."}}
    httpserver.expect_request(endpoint(kind)).respond_with_json(body, status=status)
    error = failure(kind, httpserver)

    assert (error.code, error.transient) == ("generation_failed", False)
    assert "refused the operator's API key" in str(error) and f"HTTP {status}" in str(error)


@BOTH
@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_or_broken_provider_is_transient(kind, status, httpserver):
    httpserver.expect_request(endpoint(kind)).respond_with_json({"error": {"code": "Busy", "message": "x"}}, status)
    error = failure(kind, httpserver)

    assert error.transient is True and f"HTTP {status}" in str(error)


def test_an_openai_provider_that_does_not_answer_in_time_is_transient(httpserver):
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(10)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(endpoint("openai")).respond_with_handler(stall)
    try:
        error = failure("openai", httpserver, timeout=0.3)
    finally:
        release.set()
    # openai-python retries a timed-out request too; ModelArk bills one, see test_engine_ark.py.
    assert error.transient is True and "did not answer within 0.3 s" in str(error)


@BOTH
def test_an_unreachable_provider_is_transient(kind):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cls, prefix, defaults = ENGINES[kind]
    with pytest.raises(EngineError) as caught:
        cls(base_url=f"http://127.0.0.1:{port}{prefix}", api_key=KEY, **defaults).render(spec(), Progress())
    assert caught.value.transient is True and "Could not reach" in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("ark", "InputTextSensitiveContentDetected"),
        ("ark", "OutputImageRiskDetection"),
        ("openai", "content_policy_violation"),
        ("openai", "moderation_blocked"),
    ],
)
def test_a_content_refusal_is_content_policy(kind, code, httpserver):
    body = {"error": {"code": code, "message": "The request failed because the input text may be sensitive."}}
    httpserver.expect_request(endpoint(kind)).respond_with_json(body, status=400)
    error = failure(kind, httpserver)

    assert (error.code, error.transient) == ("content_policy", False) and code in str(error)


def test_a_content_refusal_inside_a_successful_ark_reply_is_content_policy(httpserver):
    entry = {"error": {"code": "OutputImageSensitiveContentDetected", "message": "sensitive"}}
    httpserver.expect_request(endpoint("ark")).respond_with_json({"data": [entry]})

    assert failure("ark", httpserver).code == "content_policy"


@BOTH
def test_another_bad_request_fails_with_the_providers_words_but_never_the_key(kind, httpserver):
    body = {"error": {"code": "InvalidParameter", "message": f"size is invalid for key {KEY}"}}
    httpserver.expect_request(endpoint(kind)).respond_with_json(body, status=400)
    error = failure(kind, httpserver)

    assert (error.code, error.transient) == ("generation_failed", False)
    assert "InvalidParameter" in str(error) and "size is invalid for key [redacted]" in str(error)


@BOTH
def test_a_reply_that_is_not_an_image_fails_clearly(kind, httpserver):
    reply = {"data": [{"b64_json": base64.b64encode(b"not a picture").decode()}]}
    httpserver.expect_request(endpoint(kind)).respond_with_json(reply)

    assert "not a readable image" in str(failure(kind, httpserver))


# --- End to end ----------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_renders_an_api_request_through_a_fake_modelark(account, start_worker, settings, httpserver):
    upstream_colour = (30, 144, 90)
    httpserver.expect_request("/api/v3/images/generations", method="POST").respond_with_json(
        b64_reply(png((1184, 1184), upstream_colour))
    )
    options = {"base_url": httpserver.url_for("/api/v3"), "api_key": KEY, "model": "seedream-4-0-250828"}
    catalog = {"seedream-5.0-lite": {"engine": "ark", "options": options}}
    settings.STUDIO_MODELS = catalog
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(catalog))
    acct = account(credits=100)

    models = acct.http.get("/models").json()["data"]
    assert [(m["id"], m["label"], m["neural"]) for m in models] == [
        ("seedream-5.0-lite", "Seedream (BytePlus ModelArk)", True)
    ]
    submitted = acct.http.post(
        "/images/generate",
        json={"model": "seedream-5.0-lite", "prompt": "A forest clearing", "aspect_ratio": "4:3", "style": "anime"},
    )
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]

    result = poll_until_finished(acct, task_id, worker)
    assert result["status"] == "completed", result
    sent = httpserver.log[0][0].get_json()
    assert (sent["size"], sent["prompt"]) == ("1184x888", "A forest clearing\nStyle: Japanese animation style.")
    with httpx.Client(timeout=30) as anyone:
        stored = anyone.get(result["image_url"])
    with Image.open(io.BytesIO(stored.content)) as image:
        assert (image.format, image.size) == ("PNG", (1184, 888))
        assert image.convert("RGB").getpixel((0, 0)) == image.convert("RGB").getpixel((592, 444)) == upstream_colour


def test_an_engine_whose_options_hold_a_list_is_served_from_the_catalog(settings):
    from generations.engines import engine_for_model

    settings.STUDIO_MODELS = {
        "gpt-image": {
            "engine": "openai",
            "options": {"base_url": "http://127.0.0.1:9/v1", "api_key": "k", "sizes": ["1024x1024", "1536x1024"]},
        }
    }
    engine = engine_for_model("gpt-image")
    assert engine.name == "openai" and engine_for_model("gpt-image") is engine  # built once, then cached
