"""Engines behind one interface, chosen by the model catalog in settings."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.conf import settings

from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult

__all__ = ["Engine", "EngineError", "ProgressFn", "RenderResult", "engine_class", "engine_for_model"]


def engine_class(name: str) -> type[Engine]:
    """The engine class registered under `name` in settings.STUDIO_ENGINES."""
    module_name, _, class_name = settings.STUDIO_ENGINES[name].rpartition(".")
    return getattr(import_module(module_name), class_name)


@cache
def _engine(name: str, options: tuple[tuple[str, object], ...]) -> Engine:
    return engine_class(name)(**dict(options))


def engine_for_model(model_id: str) -> Engine:
    """The (cached, per process) engine that serves a public model id."""
    entry = settings.STUDIO_MODELS[model_id]
    options = tuple(sorted((entry.get("options") or {}).items()))
    return _engine(entry["engine"], options)
