"""Engines behind one interface, chosen by the model catalog in settings."""

from __future__ import annotations

import json
from functools import cache
from importlib import import_module

from django.conf import settings

from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.engines.overlay import OPTION as EXACT_TEXT
from generations.engines.overlay import ExactText, exact_text_on

__all__ = [
    "Engine",
    "EngineError",
    "ProgressFn",
    "RenderResult",
    "engine_class",
    "engine_for_model",
    "engine_label",
    "is_offline_preview",
]


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under `name` in settings.STUDIO_ENGINES."""
    module_name, _, class_name = settings.STUDIO_ENGINES[name].rpartition(".")
    return getattr(import_module(module_name), class_name)


def engine_label(name: str) -> str:
    """The engine's own honest label ("Typeset (offline preview engine)"), else its name."""
    try:
        return engine_class(name).label or name
    except (KeyError, ImportError, AttributeError, ValueError):
        return name


def is_offline_preview(name: str) -> bool:
    """Whether the engine is no neural model: what GET /v1/models says as `neural: false`."""
    try:
        return not engine_class(name).neural
    except (KeyError, ImportError, AttributeError, ValueError):
        return False


@cache
def _engine(name: str, options_json: str) -> Engine:
    options = json.loads(options_json)
    engine = engine_class(name)(**{k: v for k, v in options.items() if k != EXACT_TEXT})
    # Quoted text lettered exactly onto the picture, where the catalog (or the engine's default) says.
    return ExactText(engine) if exact_text_on({"engine": name, "options": options}) else engine


def engine_for_model(model_id: str) -> Engine:
    """The (cached, per process) engine that serves a public model id.

    Options are keyed as canonical JSON: they come from JSON, and may hold lists or objects.
    """
    entry = settings.STUDIO_MODELS[model_id]
    return _engine(entry["engine"], json.dumps(entry.get("options") or {}, sort_keys=True))
