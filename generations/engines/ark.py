"""The `ark` engine: Seedream on BytePlus ModelArk (or Volcengine Ark), called over HTTPS with the operator's key.

Sources: BytePlus ModelArk image generation API reference (Seedream 4.0/4.5/5.0 sizes,
`output_format`, `optimize_prompt_options` {"thinking", "mode"}, `seed` having no effect
on Seedream 4.0 and later); ModelArk error codes page (ModelQuotaExhausted,
AccountOverdueError, AccessDenied, ModelNotOpen, InvalidEndpoint.ClosedEndpoint as
temporary); ModelArk rate limits page; the BytePlus and Volcengine Ark SDKs (model ids,
the doubao- prefix on volces.com); ComfyUI's and BytePlus's Seedream nodes.

POST {base_url}/images/generations with {"model", "prompt", "size": "WxH", "seed",
"response_format", "output_format": "png", "watermark": false, "optimize_prompt_options"};
the reply is {"data": [{"b64_json"} or {"url"}], "usage"} or {"error": {"code",
"message", "type"}}. Seedream has no fields for style or palette, so they are written into
the prompt (see `_shared.styled_prompt`), and the plan records exactly what was sent.

The call is synchronous and a request whose caller hung up is still billed (5.0 Pro
takes 110-130 s), so the timeout is long and an unanswered request is not retried.

Seedream models have a smallest output (ModelArk documents a total of 921,600 pixels for
Seedream 4.0 and for 5.0 Pro and Flash, whose range is 0.92-4.62 megapixels, and
3,686,400 for 4.5 and 5.0 Lite), so a spec smaller than that is requested at the same
aspect ratio scaled up, then fitted back to the spec's size.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from generations.engines._shared import styled_prompt
from generations.engines._upstream import Upstream, fitted_image, post_images
from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.specs import Spec

PROVIDER = "BytePlus ModelArk"
DEFAULT_BASE_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"
# The catalog's seedream-5.0-lite is Seedream 5.0 Lite; Volcengine names it with a doubao- prefix.
DEFAULT_MODEL = "seedream-5-0-260128"
VOLCENGINE_HOST = "volces.com"
VOLCENGINE_PREFIX = "doubao-"
DEFAULT_KEY_ENV = "ARK_API_KEY"
DEFAULT_TIMEOUT = 180.0
SEED_LIMIT = 2**31  # ModelArk's seed range is [-1, 2147483647]; Studio's goes to 2**32 - 1
MIN_PIXELS_SEEDREAM_4_0 = 921_600
MIN_PIXELS_SEEDREAM_5_0_PRO_FLASH = 921_600  # documented range 0.92-4.62 megapixels
MIN_PIXELS_LATER = 3_686_400  # Seedream 4.5 and 5.0 Lite: 2560 x 1440
# optimize_prompt_options as sent with deep thinking on, and off.
THINKING_ON = {"thinking": "enabled", "mode": "standard"}
THINKING_OFF = {"thinking": "disabled"}


def default_model(base_url: str) -> str:
    """Seedream 5.0 Lite's upstream id: with Volcengine's doubao- prefix on a volces.com host."""
    host = urlsplit(base_url).hostname or ""
    return VOLCENGINE_PREFIX + DEFAULT_MODEL if VOLCENGINE_HOST in host else DEFAULT_MODEL


def min_pixels_for(model: str) -> int:
    """The smallest output ModelArk accepts for a model id (an endpoint id ep-... gets the stricter one)."""
    older = ("seedream-4-0", "seedream-3-0")
    if any(name in model for name in older):
        return MIN_PIXELS_SEEDREAM_4_0
    if "seedream-5-0" in model and ("pro" in model or "flash" in model):
        return MIN_PIXELS_SEEDREAM_5_0_PRO_FLASH
    return MIN_PIXELS_LATER


def seed_effect(model: str) -> str:
    """What ModelArk documents the seed to do for `model`, in words for the plan."""
    if "seedream-3-0" in model or "seededit-3-0" in model:
        return "honoured: Seedream 3.0 takes a seed"
    if any(name in model for name in ("seedream-4", "seedream-5")):
        return "none: ModelArk documents that the seed has no effect on Seedream 4.0 and later; sent anyway"
    return "unknown for this model id; ModelArk documents that it has no effect on Seedream 4.0 and later"


def request_size(width: int, height: int, min_pixels: int) -> tuple[int, int]:
    """width x height, scaled up at the same aspect ratio until it holds at least `min_pixels`."""
    if width * height >= min_pixels:
        return width, height
    factor = math.sqrt(min_pixels / (width * height))
    return math.ceil(width * factor), math.ceil(height * factor)


def ark_error(status: int, code: str, message: str, named: str) -> EngineError | None:
    """ModelArk's documented error codes that the generic mapping would misread, or None."""
    lowered = f"{code} {message}".lower()
    if code == "ModelQuotaExhausted" or (status == 429 and "quota" in lowered and "exhausted" in lowered):
        return EngineError(
            f"{PROVIDER}: the account's quota for this model is exhausted ({named}). The operator must raise "
            "the quota or top up in the ModelArk console; retrying will not help."
        )
    if code == "AccountOverdueError":
        return EngineError(
            f"{PROVIDER}: the operator's account is overdue ({named}). The operator must settle the bill in the "
            "ModelArk console."
        )
    if code == "AccessDenied":
        return EngineError(
            f"{PROVIDER}: the operator's API key has no access to this model ({named}). The operator must grant "
            "the key access to the model or endpoint."
        )
    if code == "ModelNotOpen":
        return EngineError(
            f"{PROVIDER}: the model is not activated for the operator's account ({named}). The operator must "
            "activate it in the ModelArk console."
        )
    if code == "InvalidEndpoint.ClosedEndpoint":
        return EngineError(f"{PROVIDER}: the endpoint is temporarily closed ({named}).", transient=True)
    return None


class ArkEngine(Engine):
    """Seedream on BytePlus ModelArk.

    Options: `api_key`, or `api_key_env` (default ARK_API_KEY); `base_url` (default the
    ap-southeast endpoint); `model` (the ModelArk model or endpoint id, default Seedream
    5.0 Lite: seedream-5-0-260128, doubao-seedream-5-0-260128 on volces.com); `timeout`
    (seconds, default 180; a request that times out is not retried); `response_format`
    ("b64_json", the default, or "url"); `min_pixels` (default from the model, see
    `min_pixels_for`); `expected_seconds` (how long a render usually takes, for the
    progress estimate).
    """

    name = "ark"
    label = "Seedream (BytePlus ModelArk)"
    description = (
        "ByteDance's Seedream, a neural text-to-image model, served by BytePlus ModelArk: each render calls the "
        "upstream images API with the operator's key. Style and palette are sent as words in the prompt; the "
        "image is fitted to the requested size."
    )
    neural = True
    deep_thinking = (
        "ModelArk thinks the prompt through before Seedream draws it: the request sends "
        "optimize_prompt_options thinking: enabled (mode: standard)."
    )

    @property
    def upstream_model(self) -> str:
        """The ModelArk model or endpoint id sent as `model` (default Seedream 5.0 Lite's, see `default_model`)."""
        base_url = str(self.options.get("base_url") or DEFAULT_BASE_URL)
        return str(self.options.get("model") or default_model(base_url))

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        upstream = Upstream.from_options(
            self.options,
            provider=PROVIDER,
            default_base_url=DEFAULT_BASE_URL,
            default_key_env=DEFAULT_KEY_ENV,
            default_timeout=DEFAULT_TIMEOUT,
            resend_unanswered=False,
            error_rule=ark_error,
        )
        model = self.upstream_model
        min_pixels = int(self.options.get("min_pixels") or min_pixels_for(model))
        width, height = request_size(spec.width, spec.height, min_pixels)
        prompt = styled_prompt(spec)
        thinking = dict(THINKING_ON if spec.deep_thinking else THINKING_OFF)
        # spec.negative_prompt is not sent: ModelArk's Seedream images API takes no negative prompt.
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "size": f"{width}x{height}",
            "response_format": str(self.options.get("response_format") or "b64_json"),
            "output_format": "png",  # 5.0 Lite answers in JPEG otherwise
            "watermark": False,
            "optimize_prompt_options": thinking,
        }
        if spec.seed is not None:
            body["seed"] = spec.seed % SEED_LIMIT
        reply = post_images(upstream, body, progress)
        image, info = fitted_image(upstream, reply, spec, progress)
        progress(1.0, "done")
        plan = {
            "deep_thinking": spec.deep_thinking,
            "deep_thinking_upstream": (
                "sent as optimize_prompt_options.thinking: enabled (standard mode)"
                if spec.deep_thinking
                else "sent as optimize_prompt_options.thinking: disabled"
            ),
            "provider": PROVIDER,
            "upstream_model": model,
            "upstream_size": body["size"],
            "upstream_seed": body.get("seed"),
            "upstream_seed_effect": seed_effect(model),
            "prompt_sent": prompt,
            "style_sent": spec.style if spec.style != "auto" else None,
            "colors_sent": list(spec.colors),
        }
        info = {"engine": self.name, "provider": PROVIDER, "upstream_model": model, **info}
        return RenderResult(image=image, plan=plan, info=info)
