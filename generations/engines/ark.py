"""The `ark` engine: Seedream on BytePlus ModelArk, called over HTTPS with the operator's key.

POST {base_url}/images/generations with {"model", "prompt", "size": "WxH", "seed",
"response_format", "watermark": false}; the reply is {"data": [{"b64_json"} or {"url"}],
"usage"} or {"error": {"code", "message"}}. Seedream has no fields for style or palette, so
they are written into the prompt (see `_shared.styled_prompt`), and the plan records
exactly what was sent.

Seedream models have a smallest output (ModelArk documents a total of 921,600 pixels for
Seedream 4.0 and 3,686,400 for 4.5 and 5.0), so a spec smaller than that is requested at
the same aspect ratio scaled up, then fitted back to the spec's size.
"""

from __future__ import annotations

import math
from typing import Any

from generations.engines._shared import styled_prompt
from generations.engines._upstream import Upstream, fitted_image, post_images
from generations.engines.base import Engine, ProgressFn, RenderResult
from generations.specs import Spec

PROVIDER = "BytePlus ModelArk"
DEFAULT_BASE_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"
DEFAULT_MODEL = "seedream-4-0-250828"
DEFAULT_KEY_ENV = "ARK_API_KEY"
SEED_LIMIT = 2**31  # ModelArk's seed range is [-1, 2147483647]; Studio's goes to 2**32 - 1
MIN_PIXELS_SEEDREAM_4_0 = 921_600
MIN_PIXELS_LATER = 3_686_400  # Seedream 4.5 and 5.0: 2560 x 1440


def min_pixels_for(model: str) -> int:
    """The smallest output ModelArk accepts for a model id (an endpoint id ep-... gets the stricter one)."""
    older = ("seedream-4-0", "seedream-3-0")
    return MIN_PIXELS_SEEDREAM_4_0 if any(name in model for name in older) else MIN_PIXELS_LATER


def request_size(width: int, height: int, min_pixels: int) -> tuple[int, int]:
    """width x height, scaled up at the same aspect ratio until it holds at least `min_pixels`."""
    if width * height >= min_pixels:
        return width, height
    factor = math.sqrt(min_pixels / (width * height))
    return math.ceil(width * factor), math.ceil(height * factor)


class ArkEngine(Engine):
    """Seedream on BytePlus ModelArk.

    Options: `api_key`, or `api_key_env` (default ARK_API_KEY); `base_url` (default the
    ap-southeast endpoint); `model` (the ModelArk model or endpoint id, default
    seedream-4-0-250828); `timeout` (seconds, default 120); `response_format` ("b64_json",
    the default, or "url"); `min_pixels` (default from the model, see `min_pixels_for`);
    `expected_seconds` (how long a render usually takes, for the progress estimate).
    """

    name = "ark"
    label = "Seedream (BytePlus ModelArk)"
    description = (
        "ByteDance's Seedream, a neural text-to-image model, served by BytePlus ModelArk: each render calls the "
        "upstream images API with the operator's key. Style and palette are sent as words in the prompt; the "
        "image is fitted to the requested size."
    )
    neural = True

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        upstream = Upstream.from_options(
            self.options, provider=PROVIDER, default_base_url=DEFAULT_BASE_URL, default_key_env=DEFAULT_KEY_ENV
        )
        model = str(self.options.get("model") or DEFAULT_MODEL)
        min_pixels = int(self.options.get("min_pixels") or min_pixels_for(model))
        width, height = request_size(spec.width, spec.height, min_pixels)
        prompt = styled_prompt(spec)
        # spec.negative_prompt is not sent: ModelArk's Seedream images API takes no negative prompt.
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "size": f"{width}x{height}",
            "response_format": str(self.options.get("response_format") or "b64_json"),
            "watermark": False,
        }
        if spec.seed is not None:
            body["seed"] = spec.seed % SEED_LIMIT
        reply = post_images(upstream, body, progress)
        image, info = fitted_image(upstream, reply, spec, progress)
        progress(1.0, "done")
        plan = {
            "deep_thinking": spec.deep_thinking,
            "deep_thinking_upstream": (
                "ModelArk has no deep-thinking switch; Seedream's own prompt optimisation "
                "(optimize_prompt_options, standard mode by default) decides"
            ),
            "provider": PROVIDER,
            "upstream_model": model,
            "upstream_size": body["size"],
            "upstream_seed": body.get("seed"),
            "prompt_sent": prompt,
            "style_sent": spec.style if spec.style != "auto" else None,
            "colors_sent": list(spec.colors),
        }
        info = {"engine": self.name, "provider": PROVIDER, "upstream_model": model, **info}
        return RenderResult(image=image, plan=plan, info=info)
