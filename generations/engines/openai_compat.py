"""The `openai` engine: any OpenAI-compatible images endpoint (OpenAI itself, a gateway, a local server).

Sources: OpenAI images API reference (sizes per model: dall-e-2 256/512/1024 squares,
dall-e-3 1024x1024/1792x1024/1024x1792 with n=1, gpt-image-1 1024x1024/1536x1024/1024x1536,
gpt-image-2 any WxH with both sides divisible by 16 and a ratio within 1:3..3:1;
`response_format` only for dall-e models); OpenAI error codes guide (429
insufficient_quota, 403 organization verification); openai-python's default timeout
(600 s).

POST {base_url}/images/generations with {"model", "prompt", "size", "n": 1,
"response_format": "b64_json"}; the reply is {"data": [{"b64_json"} or {"url"}]}. Most
models take a few fixed sizes, so the engine asks for the one whose aspect ratio is
nearest the spec's (gpt-image-2 takes the spec's own size where it qualifies) and fits the
result to the spec's exact size. OpenAI's GPT image models
(gpt-image-*, chatgpt-image-*) always answer in base64 and refuse `response_format`, so it
is left out for them unless the options name one.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from generations.engines._shared import styled_prompt
from generations.engines._upstream import Upstream, fitted_image, post_images
from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.specs import Spec

DEFAULT_SIZES = ("1024x1024", "1536x1024", "1024x1536")
# Each model's own sizes, by id prefix (the first that matches).
MODEL_SIZES = (
    ("dall-e-3", ("1024x1024", "1792x1024", "1024x1792")),
    ("dall-e-2", ("1024x1024", "512x512", "256x256")),
)
GPT_IMAGE_PREFIXES = ("gpt-image", "chatgpt-image")
FREE_SIZE_MODELS = ("gpt-image-2",)  # any WxH: both sides divisible by 16, ratio within 1:3..3:1
FREE_SIZE_STEP = 16
FREE_SIZE_MAX_RATIO = 3.0
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_TIMEOUT = 600.0  # openai-python's default


def sizes_for(model: str) -> tuple[str, ...]:
    """The fixed sizes OpenAI documents for `model`; gpt-image-1's set for any other model."""
    return next((sizes for prefix, sizes in MODEL_SIZES if model.startswith(prefix)), DEFAULT_SIZES)


def free_size(width: int, height: int) -> tuple[int, int]:
    """width x height if both sides are multiples of 16 within 1:3..3:1, else the nearest such size.

    Nearest means the closest aspect ratio first (the fit then crops least), then the
    closest pixel count.
    """
    ratio = min(max(width / height, 1 / FREE_SIZE_MAX_RATIO), FREE_SIZE_MAX_RATIO)
    if width % FREE_SIZE_STEP == 0 and height % FREE_SIZE_STEP == 0 and ratio == width / height:
        return width, height
    area, step = width * height, FREE_SIZE_STEP
    ideal_width = math.sqrt(area * ratio)  # the width at the spec's pixel count and the (clamped) ratio

    def multiples_near(value: float) -> set[int]:
        return {max(step, math.floor(value / step) * step), math.ceil(value / step) * step}

    widths = range(max(step, int(ideal_width * 0.9) // step * step), int(ideal_width * 1.1) + 2 * step, step)
    candidates = [
        (w, h)
        for w in widths
        for h in multiples_near(w / ratio)
        if 1 / FREE_SIZE_MAX_RATIO <= w / h <= FREE_SIZE_MAX_RATIO
    ]
    return min(candidates, key=lambda size: (abs(math.log(size[0] / size[1] / ratio)), abs(size[0] * size[1] - area)))


def is_gpt_image(model: str) -> bool:
    return model.startswith(GPT_IMAGE_PREFIXES)


def openai_error(status: int, code: str, message: str, named: str) -> EngineError | None:
    """OpenAI's documented errors that the generic mapping would misread, or None."""
    if status == 429 and code == "insufficient_quota":
        return EngineError(
            f"The provider says the operator's account is out of quota ({named}). The operator must check the "
            "plan and billing details; retrying will not help."
        )
    if status == 403 and "organization must be verified" in message.lower():
        return EngineError(
            f"The provider requires the operator's organization to be verified to use this model ({named}). "
            "The operator must verify the organization in the provider's settings."
        )
    return None


def parse_sizes(value: Any) -> list[tuple[int, int]]:
    """["1024x1024", ...] or "1024x1024,1536x1024" -> [(1024, 1024), ...]."""
    items = value.split(",") if isinstance(value, str) else list(value or DEFAULT_SIZES)
    sizes = []
    for item in items:
        w, sep, h = str(item).strip().lower().partition("x")
        if not (sep and w.isdigit() and h.isdigit() and int(w) and int(h)):
            raise EngineError(f"The model is not configured: options.sizes entry {item!r} is not WIDTHxHEIGHT.")
        sizes.append((int(w), int(h)))
    if not sizes:
        raise EngineError("The model is not configured: options.sizes is empty.")
    return sizes


def nearest_size(width: int, height: int, sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The size whose aspect ratio is nearest width:height (compared as log ratios; the first of equals)."""
    want = math.log(width / height)
    return min(sizes, key=lambda size: abs(math.log(size[0] / size[1]) - want))


class OpenAICompatEngine(Engine):
    """An OpenAI-compatible images endpoint.

    Options: `base_url` (required, e.g. https://api.openai.com/v1); `model` (required);
    `api_key`, or `api_key_env` (default OPENAI_API_KEY); `sizes` (a list, or a
    comma-separated string; default the model's documented sizes, the spec's own size
    where the model takes any, else 1024x1024,1536x1024,1024x1536); `response_format`
    (default "b64_json", left out for GPT image models; "none" leaves it out); `send_seed`
    (true for servers that accept a seed); `timeout` (seconds, default 600 as openai-python's).
    """

    name = "openai"
    label = "OpenAI-compatible images API (upstream)"
    description = (
        "A neural text-to-image model behind an OpenAI-compatible images endpoint chosen by the operator: each "
        "render calls that upstream API with the operator's key. Style and palette are sent as words in the "
        "prompt; the image is fitted to the requested size."
    )
    neural = True
    deep_thinking = (
        "Nothing: the OpenAI images API has no deep thinking option, so nothing is sent and the image is the same."
    )

    @property
    def upstream_model(self) -> str | None:
        """The model id sent as `model` (options.model), or None while the entry names none."""
        return str(self.options.get("model") or "") or None

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        base_url = str(self.options.get("base_url") or "")
        if not base_url.startswith(("http://", "https://")):
            raise EngineError("The model is not configured: the openai engine needs options.base_url (http or https).")
        # Messages and records name the host only: a base URL could carry credentials.
        parts = urlsplit(base_url)
        host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        upstream = Upstream.from_options(
            self.options,
            provider=host,
            default_key_env=DEFAULT_KEY_ENV,
            default_timeout=DEFAULT_TIMEOUT,
            error_rule=openai_error,
        )
        model = str(self.options.get("model") or "")
        if not model:
            raise EngineError("The model is not configured: the openai engine needs options.model.")
        width, height = self._size(model, spec)
        prompt = styled_prompt(spec)
        # spec.negative_prompt is not sent: the OpenAI images API has no negative prompt field.
        body: dict[str, Any] = {"model": model, "prompt": prompt, "size": f"{width}x{height}", "n": 1}
        response_format = self._response_format(model)
        if response_format:
            body["response_format"] = response_format
        if self.options.get("send_seed") and spec.seed is not None:
            body["seed"] = spec.seed
        reply = post_images(upstream, body, progress)
        image, info = fitted_image(upstream, reply, spec, progress)
        progress(1.0, "done")
        plan: dict[str, Any] = {
            "deep_thinking": spec.deep_thinking,
            "deep_thinking_upstream": "not supported: the OpenAI images API has no such option, so it was not sent",
            "provider": host,
            "upstream_model": model,
            "upstream_size": body["size"],
            "upstream_seed": body.get("seed"),
            "prompt_sent": prompt,
            "style_sent": spec.style if spec.style != "auto" else None,
            "colors_sent": list(spec.colors),
        }
        revised = (reply.get("data") or [{}])[0].get("revised_prompt")
        if revised:
            plan["revised_prompt"] = revised
        info = {"engine": self.name, "provider": host, "upstream_model": model, **info}
        return RenderResult(image=image, plan=plan, info=info)

    def _size(self, model: str, spec: Spec) -> tuple[int, int]:
        configured = self.options.get("sizes")
        if not configured and model.startswith(FREE_SIZE_MODELS):
            return free_size(spec.width, spec.height)
        return nearest_size(spec.width, spec.height, parse_sizes(configured or sizes_for(model)))

    def _response_format(self, model: str) -> str:
        configured = self.options.get("response_format")
        if configured is not None:
            return "" if str(configured).lower() in ("", "none") else str(configured)
        return "" if is_gpt_image(model) else "b64_json"
