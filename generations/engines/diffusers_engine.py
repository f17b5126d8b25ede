"""The `diffusers` engine: any diffusers text-to-image pipeline saved in a local folder.

The catalog entry's `path` names a folder written by `save_pretrained` (model_index.json and
one sub-folder per component). It is loaded once per process with `local_files_only=True`:
this engine never downloads anything, and a hub id such as "runwayml/stable-diffusion-v1-5"
is refused, not fetched. Style and palette travel as words in the prompt (`_shared`). The
pipeline renders near the spec's aspect ratio at a size its VAE can take, no side over
`max_side`, and the picture is fitted to the spec's exact size. Progress comes from the
pipeline's step callback; the worker's progress callback raises to cancel, and that
exception is let through untouched.

torch and diffusers are imported only when a render needs them, so a server whose catalog
does not use this engine runs without them (requirements-diffusers.txt installs them).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from generations.engines._shared import fit_to_size, styled_prompt
from generations.engines.base import Engine, EngineError, ProgressFn, RenderResult
from generations.specs import Spec

log = logging.getLogger(__name__)

DEFAULT_STEPS = 30
DEFAULT_GUIDANCE = 7.0
DEFAULT_MAX_SIDE = 1024
MIN_SIDE_MULTIPLE = 8  # latent-diffusion VAEs downsample by 8; a pipeline may ask for more
# Deep thinking: twice the denoising steps (at most this many) and a firmer hold on the prompt.
DEEP_THINKING_MAX_STEPS = 100
DEEP_THINKING_GUIDANCE_BOOST = 2.0
DTYPES = ("float16", "bfloat16", "float32")
# Where each phase sits on the 0..1 progress bar.
LOADED_AT, ENCODING_AT, DENOISE_FROM, DENOISE_TO, FITTING_AT = 0.1, 0.12, 0.15, 0.92, 0.96
INSTALL_HINT = "pip install -r requirements-diffusers.txt"


@dataclass(frozen=True)
class _Options:
    path: Path
    device: str
    dtype: str
    steps: int
    guidance_scale: float
    negative_prompt: str
    max_side: int


def _options(options: dict[str, Any]) -> _Options:
    """The catalog entry's options, checked; every mistake is the operator's and says which option."""
    raw_path = str(options.get("path") or "").strip()
    if not raw_path:
        raise EngineError("The model is not configured: the diffusers engine needs options.path (a local folder).")
    path = Path(raw_path).expanduser()
    if not path.is_dir():
        raise EngineError(
            f"The model is not configured: options.path {raw_path!r} is not an existing folder on this server. "
            "The diffusers engine loads only local folders saved with save_pretrained and never downloads "
            "from a model hub; download the model first and point options.path at its folder."
        )
    if not (path / "model_index.json").is_file():
        raise EngineError(
            f"The model is not configured: {raw_path!r} has no model_index.json, so it is not a diffusers "
            "pipeline folder (save one with pipeline.save_pretrained(folder))."
        )
    dtype = str(options.get("dtype") or "auto")
    if dtype not in ("auto", *DTYPES):
        raise EngineError(f"The model is not configured: options.dtype must be auto or one of {', '.join(DTYPES)}.")
    try:
        steps = int(options.get("steps") or DEFAULT_STEPS)
        guidance = float(options.get("guidance_scale", DEFAULT_GUIDANCE))
        max_side = int(options.get("max_side") or DEFAULT_MAX_SIDE)
    except (TypeError, ValueError):
        raise EngineError("The model is not configured: steps, guidance_scale and max_side must be numbers.") from None
    if steps < 1 or guidance < 0 or max_side < 4 * MIN_SIDE_MULTIPLE:
        raise EngineError(
            "The model is not configured: steps must be at least 1, guidance_scale at least 0, "
            f"and max_side at least {4 * MIN_SIDE_MULTIPLE}."
        )
    return _Options(
        path=path.resolve(),
        device=str(options.get("device") or "auto"),
        dtype=dtype,
        steps=steps,
        guidance_scale=guidance,
        negative_prompt=str(options.get("negative_prompt") or "").strip(),
        max_side=max_side,
    )


def render_size(width: int, height: int, *, max_side: int, multiple: int) -> tuple[int, int]:
    """width x height scaled down (never up) so no side exceeds max_side, each side a multiple of `multiple`."""
    scale = min(1.0, max_side / max(width, height))
    largest = max(multiple, max_side // multiple * multiple)

    def side(value: int) -> int:
        return max(multiple, min(largest, round(value * scale / multiple) * multiple))

    return side(width), side(height)


def deep_thinking_settings(steps: int, guidance: float) -> tuple[int, float, str]:
    """(steps, guidance, what changed) for a deep-thinking render."""
    deep_steps = max(steps, min(steps * 2, DEEP_THINKING_MAX_STEPS))
    changes = [f"denoising steps {steps} -> {deep_steps} (doubled, at most {DEEP_THINKING_MAX_STEPS})"]
    deep_guidance = guidance
    if guidance > 1.0:  # at or below 1 the model runs without classifier-free guidance; keep it so
        deep_guidance = guidance + DEEP_THINKING_GUIDANCE_BOOST
        changes.append(f"guidance scale {guidance:g} -> {deep_guidance:g} (follows the prompt more closely)")
    else:
        changes.append(f"guidance scale left at {guidance:g} (this model runs without classifier-free guidance)")
    return deep_steps, deep_guidance, "; ".join(changes)


def _model_index(path: Path) -> dict[str, Any]:
    try:
        index = json.loads((path / "model_index.json").read_text())
    except (OSError, ValueError):
        raise EngineError(f"The model is not configured: {path}/model_index.json is not readable JSON.") from None
    if not isinstance(index, dict):
        raise EngineError(f"The model is not configured: {path}/model_index.json is not a JSON object.")
    return index


def _has_component(index: dict[str, Any], name: str) -> bool:
    entry = index.get(name)
    return isinstance(entry, list) and len(entry) == 2 and all(entry)


def prompt_cut_note(pipeline: Any, prompt: str) -> str | None:
    """Say so when the prompt is longer than every text encoder of the pipeline reads (CLIP: 77 tokens)."""
    limits, counts = [], []
    for name in ("tokenizer", "tokenizer_2", "tokenizer_3"):
        tokenizer = getattr(pipeline, name, None)
        limit = getattr(tokenizer, "model_max_length", None)
        if tokenizer is None or not isinstance(limit, int) or limit > 100_000:
            continue
        try:
            counts.append(len(tokenizer(prompt).input_ids))
        except Exception:  # a note must never fail a render
            continue
        limits.append(limit)
    if not limits or max(counts) <= max(limits):
        return None
    return (
        f"the text encoder reads at most {max(limits)} tokens and the prompt has {max(counts)}: "
        "its end (where style and palette are written) was cut"
    )


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _short(exc: BaseException) -> str:
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line[:200]}" if first_line else type(exc).__name__


@dataclass
class _Loaded:
    pipeline: Any
    device: str
    dtype: str
    pipeline_class: str
    safety_checker: str
    load_seconds: float


class DiffusersEngine(Engine):
    """A diffusers text-to-image pipeline from a local folder, on this server's GPU or CPU.

    Options: `path` (required: a folder saved with save_pretrained); `device` ("auto": cuda
    when available, else cpu); `dtype` ("auto": float16 on cuda, float32 on cpu; or float16,
    bfloat16, float32); `steps` (default 30); `guidance_scale` (default 7.0);
    `negative_prompt`; `max_side` (default 1024: the longest side the pipeline renders).
    """

    name = "diffusers"
    label = "Diffusers (local model)"
    description = (
        "A neural text-to-image model run on this server by Hugging Face diffusers, from a local model folder: "
        "the pipeline class that the folder's model_index.json names (for example StableDiffusionPipeline). "
        "Style and palette are sent as words in the prompt; the image is rendered near the requested aspect "
        "ratio and fitted to the exact size."
    )
    neural = True
    deep_thinking = f"More care: twice the denoising steps (at most {DEEP_THINKING_MAX_STEPS}), firmer guidance."

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._loaded: _Loaded | None = None
        # One render at a time per engine: a pipeline's scheduler keeps state between steps.
        self._lock = threading.Lock()

    def _index(self) -> dict[str, Any]:
        """The folder's model_index.json, or {} when there is none to read (describing never fails)."""
        with contextlib.suppress(EngineError):
            return _model_index(Path(str(self.options.get("path") or "")).expanduser())
        return {}

    @property
    def upstream_model(self) -> str | None:
        """The hub id the folder was saved from (`_name_or_path`; a HF cache snapshot's repo), else its name."""
        raw = str(self.options.get("path") or "").rstrip("/")
        saved_from = self._index().get("_name_or_path") if raw else None
        if isinstance(saved_from, str) and saved_from and not saved_from.startswith(("/", ".", "~")):
            return saved_from
        path = Path(raw).expanduser()  # a cache snapshot: .../models--org--name/snapshots/<revision>
        if path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--"):
            return path.parent.parent.name.removeprefix("models--").replace("--", "/")
        return path.name if raw else None

    def deep_thinking_effect(self) -> str:
        """What deep thinking makes of the configured steps and guidance."""
        try:
            steps = int(self.options.get("steps") or DEFAULT_STEPS)
            guidance = float(self.options.get("guidance_scale", DEFAULT_GUIDANCE))
        except (TypeError, ValueError):
            return self.deep_thinking
        deep_steps, deep_guidance, _ = deep_thinking_settings(steps, guidance)
        held = f"guidance {deep_guidance:g} (not {guidance:g})" if deep_guidance != guidance else "the same guidance"
        return f"More care: {deep_steps} denoising steps instead of {steps}, {held}; slower."

    def describe(self) -> dict[str, Any]:
        pipeline = self._index().get("_class_name")
        return {**super().describe(), **({"pipeline": pipeline} if pipeline is not None else {})}

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        opts = _options(self.options)
        with self._lock:
            first_load = self._loaded is None
            loaded = self._load(opts, progress)
            return self._render(spec, progress, opts, loaded, first_load)

    def _load(self, opts: _Options, progress: ProgressFn) -> _Loaded:
        if self._loaded is not None:
            return self._loaded
        progress(0.02, "loading model")
        try:
            import torch
            from diffusers import DiffusionPipeline
        except ImportError as exc:
            raise EngineError(f"The diffusers engine needs torch and diffusers ({INSTALL_HINT}): {exc}") from None
        started = time.monotonic()
        device = ("cuda" if torch.cuda.is_available() else "cpu") if opts.device == "auto" else opts.device
        dtype_name = opts.dtype if opts.dtype != "auto" else ("float16" if device.startswith("cuda") else "float32")
        index = _model_index(opts.path)
        class_name = str(index.get("_class_name") or "DiffusionPipeline")
        # `dtype`: diffusers 0.42's name for it (`torch_dtype` still works there, with a deprecation warning).
        kwargs: dict[str, Any] = {"local_files_only": True, "dtype": getattr(torch, dtype_name)}
        safety = "from the model folder"
        if not _has_component(index, "safety_checker"):
            safety = "none in the model folder"
            accepted = _init_parameters(class_name)
            # Say so to the pipeline rather than have it warn (or refuse) about a missing one; never fake one.
            if "safety_checker" in accepted:
                kwargs["safety_checker"] = None
            if "requires_safety_checker" in accepted:
                kwargs["requires_safety_checker"] = False
        try:
            pipeline = DiffusionPipeline.from_pretrained(str(opts.path), **kwargs)
            pipeline = pipeline.to(device)
        except Exception as exc:
            if _is_out_of_memory(exc):
                raise EngineError(f"Out of memory loading the model on {device}.", transient=True) from exc
            raise EngineError(
                f"The model is not configured: {opts.path} could not be loaded as a diffusers pipeline ({_short(exc)})."
            ) from exc
        if hasattr(pipeline, "set_progress_bar_config"):
            pipeline.set_progress_bar_config(disable=True)
        self._loaded = _Loaded(
            pipeline=pipeline,
            device=device,
            dtype=dtype_name,
            pipeline_class=type(pipeline).__name__,
            safety_checker=safety,
            load_seconds=round(time.monotonic() - started, 3),
        )
        progress(LOADED_AT, "model loaded")
        return self._loaded

    def _render(
        self, spec: Spec, progress: ProgressFn, opts: _Options, loaded: _Loaded, first_load: bool
    ) -> RenderResult:
        import torch

        pipeline = loaded.pipeline
        steps, guidance = opts.steps, opts.guidance_scale
        deep_changes = "deep thinking was off"
        if spec.deep_thinking:
            steps, guidance, deep_changes = deep_thinking_settings(steps, guidance)
        multiple = max(MIN_SIDE_MULTIPLE, int(getattr(pipeline, "vae_scale_factor", 0) or 0))
        width, height = render_size(spec.width, spec.height, max_side=opts.max_side, multiple=multiple)
        prompt = styled_prompt(spec)
        parameters = inspect.signature(pipeline.__call__).parameters
        raised: list[BaseException] = []  # what the worker's progress callback raised (a cancellation)

        def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            total = getattr(pipe, "num_timesteps", None) or steps
            done = min(step + 1, total)
            try:
                progress(DENOISE_FROM + (DENOISE_TO - DENOISE_FROM) * done / total, f"denoising {done}/{total}")
            except BaseException as exc:
                raised.append(exc)
                raise
            return callback_kwargs

        call: dict[str, Any] = {
            "prompt": prompt,
            "width": width,
            "height": height,
            "num_inference_steps": steps,
            "guidance_scale": guidance,
            "output_type": "pil",
        }
        if spec.seed is not None:
            call["generator"] = torch.Generator(loaded.device).manual_seed(spec.seed)
        # The request's own negative prompt, after the operator's standing one from the catalog.
        negative = ", ".join(part for part in (opts.negative_prompt, spec.negative_prompt) if part)
        if negative and "negative_prompt" in parameters:
            call["negative_prompt"] = negative
        if "callback_on_step_end" in parameters:
            call["callback_on_step_end"] = on_step_end
        progress(ENCODING_AT, "encoding prompt")
        started = time.monotonic()
        try:
            output = pipeline(**call)
        except Exception as exc:
            if any(exc is cancel for cancel in raised) or isinstance(exc, SoftTimeLimitExceeded):
                raise
            if _is_out_of_memory(exc):
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                raise EngineError(
                    f"Out of memory rendering {width}x{height} on {loaded.device}.", transient=True
                ) from exc
            log.exception("diffusers pipeline %s failed", loaded.pipeline_class)
            raise EngineError(f"The diffusers pipeline failed ({_short(exc)}).") from exc
        denoise_seconds = round(time.monotonic() - started, 3)
        flagged = getattr(output, "nsfw_content_detected", None)
        if flagged and any(flagged):
            raise EngineError("The model folder's safety checker withheld the image.", code="content_policy")
        produced = output.images[0]
        progress(FITTING_AT, f"fitting {produced.size[0]}x{produced.size[1]} to {spec.width}x{spec.height}")
        image = fit_to_size(produced, spec.width, spec.height)
        progress(1.0, "done")
        plan = {
            "deep_thinking": spec.deep_thinking,
            "deep_thinking_changed": deep_changes,
            "steps": steps,
            "guidance_scale": guidance,
            "prompt_sent": prompt,
            "negative_prompt": call.get("negative_prompt"),
            "render_size": f"{width}x{height}",
            "pipeline": loaded.pipeline_class,
            "seed": spec.seed,
            "style_sent": spec.style if spec.style != "auto" else None,
            "colors_sent": list(spec.colors),
        }
        info: dict[str, Any] = {
            "engine": self.name,
            "pipeline": loaded.pipeline_class,
            "device": loaded.device,
            "dtype": loaded.dtype,
            "safety_checker": loaded.safety_checker,
            "model_output_size": f"{produced.size[0]}x{produced.size[1]}",
            "denoise_seconds": denoise_seconds,
        }
        cut = prompt_cut_note(pipeline, prompt)
        if cut:
            plan["prompt_cut"] = cut
        if first_load:
            info["load_seconds"] = loaded.load_seconds
        return RenderResult(image=image, plan=plan, info=info)


def _init_parameters(class_name: str) -> set[str]:
    """The keyword arguments the named diffusers pipeline class takes, or none if it is not one diffusers has."""
    import diffusers

    cls = getattr(diffusers, class_name, None)
    if cls is None:
        return set()
    return set(inspect.signature(cls.__init__).parameters)
