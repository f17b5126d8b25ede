"""The rules of a generation request, in one place.

Both doors (the `/v1` API and the studio form) and the command line build a `Spec`
through `build_spec`, so a rule such as "a prompt is at most 1000 characters" exists
exactly once. Every rejection is a `SpecError` that names the field and carries the
API error code the product document uses for it.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.tiers import PRICE_PER_IMAGE, SIGNUP_CREDITS

__reexported__ = (PRICE_PER_IMAGE, SIGNUP_CREDITS)

# The product document's table, to the pixel.
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1360, 768),
    "9:16": (768, 1360),
    "4:3": (1184, 888),
    "3:4": (888, 1184),
    "3:2": (1248, 832),
}
ASPECT_RATIO_USES: dict[str, str] = {
    "1:1": "Social media, product images",
    "16:9": "Thumbnails, presentations, banners",
    "9:16": "Stories, phone wallpapers",
    "4:3": "Blog images, email headers",
    "3:4": "Pinterest, portraits",
    "3:2": "Photography style",
}
DEFAULT_ASPECT_RATIO = "1:1"

STYLES: dict[str, str] = {
    "auto": "Model selects best style based on prompt",
    "photorealistic": "Lifelike photography style",
    "digital-art": "Clean digital illustration",
    "watercolor": "Watercolor painting effect",
    "oil-painting": "Classical oil painting",
    "anime": "Japanese animation style",
    "minimalist": "Clean, minimal design",
    "retro": "Vintage/retro aesthetic",
}
DEFAULT_STYLE = "auto"
# The document allows "Style preset or description": a free-text style is kept as
# written and mapped to the nearest preset by these words.
STYLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "photorealistic": ("photo", "realistic", "camera", "lifelike", "cinematic", "studio lighting"),
    "digital-art": ("digital", "vector", "illustration", "neon", "cyber", "3d", "render"),
    "watercolor": ("watercolor", "watercolour", "aquarelle", "wash", "pastel"),
    "oil-painting": ("oil", "canvas", "impasto", "baroque", "renaissance", "classical"),
    "anime": ("anime", "manga", "cel", "ghibli", "cartoon"),
    "minimalist": ("minimal", "flat", "clean", "simple", "swiss"),
    "retro": ("retro", "vintage", "80s", "70s", "synthwave", "poster", "halftone"),
}
STYLE_DESCRIPTION_MAX = 200

PROMPT_MAX_LENGTH = 1000
# What the image should avoid: optional, as long as a prompt at most.
NEGATIVE_PROMPT_MAX_LENGTH = PROMPT_MAX_LENGTH
MAX_COLORS = 8
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
SEED_MAX = 2**32 - 1
METADATA_MAX_BYTES = 8192
WEBHOOK_URL_MAX_LENGTH = 2048

BATCH_MAX_ITEMS = 50
MAX_BATCHES_IN_PROGRESS = 5
BATCH_TIMEOUT_SECONDS = 5 * 60
DEFAULT_MODEL = "seedream-5.0-lite"


class SpecError(ValueError):
    """A request field broke a rule. `code` is the API error code, `field` the field."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Spec:
    """A validated generation request: everything an engine needs, and what is stored."""

    model: str
    prompt: str
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    style: str = DEFAULT_STYLE
    colors: tuple[str, ...] = ()
    deep_thinking: bool = False
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    webhook_url: str = ""
    negative_prompt: str = ""
    # Whether the files carry the prompt and parameters; None: the user's setting decides.
    embed_parameters: bool | None = None

    @property
    def width(self) -> int:
        return ASPECT_RATIOS[self.aspect_ratio][0]

    @property
    def height(self) -> int:
        return ASPECT_RATIOS[self.aspect_ratio][1]

    @property
    def style_preset(self) -> str:
        return style_preset(self.style)

    @property
    def price(self) -> int:
        return PRICE_PER_IMAGE

    def with_seed(self) -> Spec:
        """The same spec with a concrete seed: a random one when none was asked for."""
        if self.seed is not None:
            return self
        return replace(self, seed=secrets.randbelow(SEED_MAX + 1))


def style_preset(style: str) -> str:
    """The preset a style names, or the nearest preset for a free-text description."""
    value = style.strip().lower()
    if value in STYLES:
        return value
    for preset, words in STYLE_KEYWORDS.items():
        if any(word in value for word in words):
            return preset
    return "auto"


def model_catalog() -> dict[str, dict[str, Any]]:
    """Public model id -> {"engine": name, "options": {...}}, from settings."""
    return settings.STUDIO_MODELS


def blocked_term(prompt: str) -> str | None:
    """The first configured blocked term found in the prompt as a whole word, if any."""
    lowered = prompt.lower()
    for term in settings.STUDIO_BLOCKED_TERMS:
        term = term.strip().lower()
        if term and re.search(rf"(?<!\w){re.escape(term)}(?!\w)", lowered):
            return term
    return None


def _clean_model(value: Any, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise SpecError("invalid_model", "model", "model is required. Use seedream-5.0-lite.")
        return DEFAULT_MODEL
    if not isinstance(value, str) or value not in model_catalog():
        known = ", ".join(sorted(model_catalog()))
        raise SpecError("invalid_model", "model", f"Model identifier not recognized: {value!r}. Use one of: {known}.")
    return value


def _clean_prompt(value: Any) -> str:
    if not isinstance(value, str):
        raise SpecError("invalid_prompt", "prompt", "prompt is required and must be a string.")
    prompt = value.strip()
    if not prompt:
        raise SpecError("invalid_prompt", "prompt", "prompt must not be empty.")
    if len(prompt) > PROMPT_MAX_LENGTH:
        raise SpecError(
            "invalid_prompt",
            "prompt",
            f"prompt is {len(prompt)} characters long; the maximum is {PROMPT_MAX_LENGTH}.",
        )
    term = blocked_term(prompt)
    if term:
        raise SpecError("content_policy", "prompt", f"The prompt violates the content policy (blocked term: {term!r}).")
    return prompt


# Engines that letter quoted text themselves, and the function that lists the characters
# of a prompt's quotes they cannot draw. Named, not imported: engines import this module.
LETTERING_CHECKS = {"typeset": "generations.engines.typeset.prompt.undrawable_quoted_text"}
# Whether a catalog entry has exact text on (its quotes lettered by the typeset planner onto
# the model's picture): such a model refuses what typeset cannot draw, too.
EXACT_TEXT_RULE = "generations.engines.overlay.exact_text_on"


def _check_drawable(model: str, prompt: str) -> str:
    """Refuse quoted text that the model's engine has no font for (before anything is charged)."""
    entry = model_catalog()[model]
    check = LETTERING_CHECKS.get(entry["engine"])
    if check is None and import_string(EXACT_TEXT_RULE)(entry):
        check = LETTERING_CHECKS["typeset"]
    missing: list[str] = import_string(check)(prompt) if check else []
    if missing:
        names = ", ".join(f'"{ch}" (U+{ord(ch):04X} {unicodedata.name(ch, "unnamed")})' for ch in missing)
        raise SpecError(
            "invalid_prompt",
            "prompt",
            f"The quoted text has characters this model cannot draw: {names}. Remove them or use other characters.",
        )
    return prompt


def _clean_negative_prompt(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SpecError("invalid_negative_prompt", "negative_prompt", "negative_prompt must be a string.")
    text = value.strip()
    if len(text) > NEGATIVE_PROMPT_MAX_LENGTH:
        raise SpecError(
            "invalid_negative_prompt",
            "negative_prompt",
            f"negative_prompt is {len(text)} characters long; the maximum is {NEGATIVE_PROMPT_MAX_LENGTH}.",
        )
    return text


def _clean_aspect_ratio(value: Any) -> str:
    if value is None:
        return DEFAULT_ASPECT_RATIO
    if not isinstance(value, str) or value not in ASPECT_RATIOS:
        supported = ", ".join(ASPECT_RATIOS)
        raise SpecError(
            "invalid_aspect_ratio",
            "aspect_ratio",
            f"Aspect ratio {value!r} is not supported. Use one of: {supported}.",
        )
    return value


def _clean_style(value: Any) -> str:
    if value is None or value == "":
        return DEFAULT_STYLE
    if not isinstance(value, str):
        raise SpecError("invalid_style", "style", "style must be a preset name or a short description.")
    style = value.strip()
    if len(style) > STYLE_DESCRIPTION_MAX:
        raise SpecError(
            "invalid_style", "style", f"style is at most {STYLE_DESCRIPTION_MAX} characters (a preset or description)."
        )
    return style.lower() if style.lower() in STYLES else style


def normalize_color(value: str) -> str:
    """'#F0a' -> '#ff00aa'."""
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _clean_colors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise SpecError("invalid_colors", "colors", 'colors must be an array of hex codes such as "#ff6600".')
    if len(value) > MAX_COLORS:
        raise SpecError("invalid_colors", "colors", f"colors holds {len(value)} entries; the maximum is {MAX_COLORS}.")
    for item in value:
        if not isinstance(item, str) or not HEX_COLOR.match(item):
            raise SpecError("invalid_colors", "colors", f"colors entry {item!r} is not a hex code (#RGB or #RRGGBB).")
    return tuple(normalize_color(item) for item in value)


def _clean_bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise SpecError(f"invalid_{name}", name, f"{name} must be true or false.")
    return value


def _clean_embed_parameters(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise SpecError("invalid_request", "embed_parameters", "embed_parameters must be true or false.")
    return value


def _clean_seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise SpecError("invalid_seed", "seed", f"seed must be an integer from 0 to {SEED_MAX}.")
    return value


def _clean_metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError("invalid_metadata", "metadata", "metadata must be a JSON object.")
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > METADATA_MAX_BYTES:
        raise SpecError(
            "invalid_metadata", "metadata", f"metadata is {size} bytes as JSON; the maximum is {METADATA_MAX_BYTES}."
        )
    return value


def clean_webhook_url(value: Any) -> str:
    """An http(s) URL with a host, or "" for none. Where it points is checked by webhooks."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > WEBHOOK_URL_MAX_LENGTH:
        raise SpecError("invalid_webhook_url", "webhook_url", "webhook_url must be an http or https URL.")
    try:  # urlsplit raises ValueError for an unclosed "[", and .port for a port that is no port
        parts = urlsplit(value)
        port_is_a_number = parts.port is None or parts.port >= 0
    except ValueError:
        port_is_a_number = False
    if not port_is_a_number or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError("invalid_webhook_url", "webhook_url", "webhook_url must be an absolute http or https URL.")
    return value


def build_spec(data: Mapping[str, Any], *, require_model: bool = True) -> Spec:
    """Validate one raw request (JSON object or form data) into a `Spec`.

    Fields are checked in the order the document lists them, so the first broken rule
    is the one reported. Unknown fields are ignored: the document's own JavaScript
    example spreads its camelCase options (`aspectRatio`, `deepThinking`) into the body.
    """
    if not isinstance(data, Mapping):
        raise SpecError("invalid_request", "body", "Each generation must be a JSON object.")
    model = _clean_model(data.get("model"), required=require_model)
    return Spec(
        model=model,
        prompt=_check_drawable(model, _clean_prompt(data.get("prompt"))),
        aspect_ratio=_clean_aspect_ratio(data.get("aspect_ratio")),
        deep_thinking=_clean_bool(data.get("deep_thinking"), "deep_thinking"),
        style=_clean_style(data.get("style")),
        colors=_clean_colors(data.get("colors")),
        seed=_clean_seed(data.get("seed")),
        metadata=_clean_metadata(data.get("metadata")),
        webhook_url=clean_webhook_url(data.get("webhook_url")),
        negative_prompt=_clean_negative_prompt(data.get("negative_prompt")),
        embed_parameters=_clean_embed_parameters(data.get("embed_parameters")),
    )
