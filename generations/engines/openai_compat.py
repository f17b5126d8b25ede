"""The `openai` engine: any OpenAI-compatible images endpoint (OpenAI itself, a gateway, a local server).

POST {base_url}/images/generations with {"model", "prompt", "size", "n": 1,
"response_format": "b64_json"}; the reply is {"data": [{"b64_json"} or {"url"}]}. Such
endpoints take a few fixed sizes, so the engine asks for the one whose aspect ratio is
nearest the spec's and fits the result to the spec's exact size. OpenAI's gpt-image models
always answer in base64 and refuse `response_format`, so it is left out for them unless
the options name one.
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
DEFAULT_KEY_ENV = "OPENAI_API_KEY"


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
    comma-separated string, default 1024x1024,1536x1024,1024x1536); `response_format`
    (default "b64_json", left out for gpt-image models; "none" leaves it out); `send_seed`
    (true for servers that accept a seed); `timeout` (seconds, default 120).
    """

    name = "openai"
    label = "OpenAI-compatible images API (upstream)"
    description = (
        "A neural text-to-image model behind an OpenAI-compatible images endpoint chosen by the operator: each "
        "render calls that upstream API with the operator's key. Style and palette are sent as words in the "
        "prompt; the image is fitted to the requested size."
    )
    neural = True

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        base_url = str(self.options.get("base_url") or "")
        if not base_url.startswith(("http://", "https://")):
            raise EngineError("The model is not configured: the openai engine needs options.base_url (http or https).")
        # Messages and records name the host only: a base URL could carry credentials.
        parts = urlsplit(base_url)
        host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        upstream = Upstream.from_options(self.options, provider=host, default_key_env=DEFAULT_KEY_ENV)
        model = str(self.options.get("model") or "")
        if not model:
            raise EngineError("The model is not configured: the openai engine needs options.model.")
        width, height = nearest_size(spec.width, spec.height, parse_sizes(self.options.get("sizes")))
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

    def _response_format(self, model: str) -> str:
        configured = self.options.get("response_format")
        if configured is not None:
            return "" if str(configured).lower() in ("", "none") else str(configured)
        return "" if model.startswith("gpt-image") else "b64_json"
