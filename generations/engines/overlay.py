"""Exact text on any engine: the prompt's quoted text lettered onto a neural model's picture.

Neural models misspell the text a prompt quotes. A catalog entry's option `exact_text`
wraps its engine in `ExactText`: the model is asked for clear space where the quotes
would go (never for the words themselves), then the typeset engine's planner letters the
quotes exactly onto the finished picture, placed and contrast-checked on its real pixels
(`typeset.lettering`). The plan records it under "text_overlay"; the C2PA manifest reads
`plan["text_overlay"]["applied"]` to mark the file as a composite.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generations.engines.base import Engine, ProgressFn, RenderResult
from generations.engines.typeset.lettering import letter_picture, prompt_for_picture
from generations.specs import Spec

OPTION = "exact_text"
INNER_SHARE = 0.9  # the model's render is this much of the progress bar; lettering the rest
# Added to the request's negative prompt (engines whose model takes one use it).
NO_TEXT_NEGATIVE = "text, letters, words, writing, watermark, signature"
# OpenAI's GPT image models spell quoted text well themselves; dall-e-2 and dall-e-3 (and
# unknown models behind a compatible endpoint) do not, so exact text is on for them.
GOOD_SPELLERS = ("gpt-image", "chatgpt-image")


def exact_text_on(entry: dict[str, Any]) -> bool:
    """Whether a catalog entry ({"engine", "options"}) letters quoted text with `ExactText`.

    `options.exact_text` decides when it is set; else the engine's default: on for
    `diffusers` (Stable Diffusion and its kin cannot spell) and for `openai` models other
    than GPT image ones, off for `ark` (Seedream renders text well itself) and for any other
    engine. Never for `typeset`: it letters quoted text itself.
    """
    engine = entry.get("engine")
    options = entry.get("options") or {}
    if engine == "typeset":
        return False
    if options.get(OPTION) is not None:
        return bool(options[OPTION])
    if engine == "diffusers":
        return True
    if engine == "openai":
        return not str(options.get("model") or "").startswith(GOOD_SPELLERS)
    return False


class ExactText(Engine):
    """Another engine, with the prompt's quoted text lettered exactly onto its picture.

    It keeps the inner engine's name, label and neural flag: the picture is still that
    model's; `describe()` adds "exact_text": true.
    """

    def __init__(self, inner: Engine) -> None:
        super().__init__(**inner.options)
        self.inner = inner

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.inner.label

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.inner.description

    @property
    def neural(self) -> bool:  # type: ignore[override]
        return self.inner.neural

    @property
    def deep_thinking(self) -> str:  # type: ignore[override]
        return self.inner.deep_thinking

    @property
    def upstream_model(self) -> str | None:
        return self.inner.upstream_model

    def deep_thinking_effect(self) -> str:
        return self.inner.deep_thinking_effect()

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), OPTION: True}

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        sent = prompt_for_picture(spec.prompt)
        if sent == spec.prompt:
            result = self.inner.render(spec, progress)
            overlay: dict[str, Any] = {"applied": False, "reason": "the prompt quotes no text"}
            return RenderResult(result.image, {**result.plan, "text_overlay": overlay}, result.info)

        def inner_progress(fraction: float, note: str) -> None:
            progress(INNER_SHARE * fraction, "picture done" if fraction >= 1 else note)

        negative = ", ".join(part for part in (spec.negative_prompt, NO_TEXT_NEGATIVE) if part)
        result = self.inner.render(replace(spec, prompt=sent, negative_prompt=negative), inner_progress)
        progress(INNER_SHARE, "lettering")
        image = result.image.convert("RGB")
        lettering = letter_picture(image, spec.prompt, spec.style_preset)
        if lettering is None:  # cannot happen: `sent` differs from the prompt only where it quotes text
            return RenderResult(
                image, {**result.plan, "text_overlay": {"applied": False, "reason": "nothing to letter"}}, result.info
            )
        overlay = {
            "applied": True,
            "texts": [b["text"] for b in lettering.blocks],
            "boxes": [b["box"] for b in lettering.blocks],
            "treatment": [b["treatment"] for b in lettering.blocks],
            "contrast": [b["contrast"] for b in lettering.blocks],
            "prompt_sent": result.plan.get("prompt_sent", sent),
            "negative_prompt_sent": result.plan.get("negative_prompt"),  # None: the model takes none
            "region": lettering.region,
            "detail_box": lettering.subject_box,
            "text_boxes": lettering.blocks,
            "candidates": lettering.candidates,
        }
        progress(1.0, "done")
        return RenderResult(image, {**result.plan, "text_overlay": overlay}, result.info)
