"""The one small interface every engine implements.

An engine turns a validated `Spec` (with a concrete seed) into pixels and reports
progress as it goes. The rest of Studio never imports a particular engine: it asks
`generations.engines.engine_for_model(model_id)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image

from generations.specs import Spec

# progress(fraction 0..1, short note such as "planning layout"). Engines call it a few
# times per render; the caller rate-limits writes, so calling it often is fine.
ProgressFn = Callable[[float, str], None]


class EngineError(Exception):
    """The engine could not make this image. `code` is the API error code to report."""

    def __init__(self, message: str, *, code: str = "generation_failed", transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


@dataclass
class RenderResult:
    image: Image.Image  # RGB, exactly spec.width x spec.height
    # What deep thinking decided (layout plan, candidates tried and their scores), or {}.
    plan: dict[str, Any] = field(default_factory=dict)
    # Anything else worth recording about the render (engine version, timings, ...).
    info: dict[str, Any] = field(default_factory=dict)


class Engine:
    """Base class. Subclasses set `name`, `label`, `description`, and implement `render`."""

    name: ClassVar[str] = ""
    # Shown in the UI and in GET /v1/models. Must be honest about what the engine is.
    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # A neural model or not: the studio and /v1/models say so.
    neural: ClassVar[bool] = False
    # What deep thinking does with this engine, in one sentence (the studio and /v1/models say it).
    deep_thinking: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        raise NotImplementedError

    @property
    def upstream_model(self) -> str | None:
        """The model this engine really runs, from its options (the id it sends upstream, the
        local folder's model), or None for an engine that is no model."""
        return None

    def deep_thinking_effect(self) -> str:
        """What deep thinking does with these options; `deep_thinking` unless the options change it."""
        return self.deep_thinking

    def describe(self) -> dict[str, Any]:
        """The engine's facts, as GET /v1/models and the studio's form show them."""
        return {
            "engine": self.name,
            "label": self.label,
            "description": self.description,
            "neural": self.neural,
            "upstream_model": self.upstream_model,
            "deep_thinking": self.deep_thinking_effect(),
        }
