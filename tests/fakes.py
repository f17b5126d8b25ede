"""A fake engine for tests that are about the pipeline, not about pixels."""

from __future__ import annotations

import time

from PIL import Image

from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.specs import Spec


class FakeEngine(Engine):
    """Paints one flat colour. Options: `fail` ("permanent"/"transient"), `step_delay` seconds."""

    name = "fake"
    label = "Fake engine (tests)"
    description = "A flat colour, for tests."

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        for step in range(1, 5):
            time.sleep(float(self.options.get("step_delay", 0)))
            progress(step / 5, f"step {step}")
        mode = self.options.get("fail")
        if mode:
            raise EngineError("the fake engine was told to fail", transient=mode == "transient")
        colour = spec.colors[0] if spec.colors else "#336699"
        progress(1.0, "done")
        return RenderResult(image=Image.new("RGB", (spec.width, spec.height), colour), plan={"fake": True}, info={})
