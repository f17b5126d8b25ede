"""The peer benchmark's engine: the very render that the cog peer's predictor does.

Bench-only, registered by `bench/peer_settings.py` and nowhere else. `bench/peer.py`
copies the peer harness's `cog_predictor/` into a temporary folder and names its
`predict.py` in `STUDIO_PEER_PREDICT_PY`; this engine loads that file by path and calls its
`render(prompt, width, height)` (a gradient and the prompt, with Pillow; no cog needed), so
Studio and cog do the same model work and any difference in time is what the servers add.
Progress is reported as an engine with one opaque step would (diffusers reports per step):
once before the render and once when it is done.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.specs import Spec


def load_predictor(path: str) -> ModuleType:
    """The predictor file at `path` (`render`, `render_png`), imported under a name of its own."""
    if not path or not Path(path).is_file():
        raise EngineError(f"peer engine: no predictor at {path!r} (set STUDIO_PEER_PREDICT_PY)")
    spec = importlib.util.spec_from_file_location("studio_bench_peer_predict", path)
    if spec is None or spec.loader is None:
        raise EngineError(f"peer engine: cannot import {path!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PeerEngine(Engine):
    name = "peer"
    label = "cog peer render (benchmark only)"
    description = "The cog peer harness's Pillow render: a navy-to-orange gradient with the prompt drawn on it."

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._render = load_predictor(str(options.get("predict_py") or "")).render

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        progress(0.1, "rendering")
        image = self._render(spec.prompt, spec.width, spec.height)
        progress(1.0, "done")
        return RenderResult(image=image, info={"engine": self.name})
