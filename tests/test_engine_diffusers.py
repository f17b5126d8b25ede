"""The `diffusers` engine on a tiny Stable Diffusion pipeline that the tests build themselves.

The pipeline is made from configs with random weights (a few MB, no download, in
`tests/diffusers_models.py`) and saved with `save_pretrained`; the engine loads it only as
an operator's catalog would, by folder.
Each test states what the engine delivers: the exact size, the same pixels for the same
seed, progress by denoising step, what deep thinking changed, and clear refusals of
anything that is not a local model folder, with nothing sent over the network.
"""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import httpx
import pytest
import torch
from PIL import Image, ImageChops

from generations.engines import EngineError
from generations.engines.diffusers_engine import DiffusersEngine
from generations.specs import ASPECT_RATIOS, Spec
from tests.api_support import poll_until_finished
from tests.diffusers_models import MAX_TOKENS, build_tiny_sd

torch.set_num_threads(1)  # the CI machine has two cores, shared with the other tests

FAST = {"steps": 2, "max_side": 64}


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory) -> Path:
    """A Stable Diffusion pipeline a few MB in size, random weights, saved as an operator's folder would be."""
    return build_tiny_sd(tmp_path_factory.mktemp("diffusers") / "tiny-sd")


def spec(**fields: object) -> Spec:
    return Spec(**{"model": "seedream-5.0-lite", "prompt": "A lighthouse at dusk", "seed": 42, **fields})


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction: float, note: str) -> None:
        self.calls.append((fraction, note))

    @property
    def notes(self) -> list[str]:
        return [note for _, note in self.calls]


def engine(folder: Path, **options: object) -> DiffusersEngine:
    return DiffusersEngine(**{"path": str(folder), **FAST, **options})


def refusal(**options: object) -> EngineError:
    with pytest.raises(EngineError) as caught:
        DiffusersEngine(**options).render(spec(), Progress())
    assert caught.value.code == "generation_failed" and not caught.value.transient
    return caught.value


@pytest.fixture
def no_network(monkeypatch) -> list[object]:
    """HF_HUB_OFFLINE=1, and every attempt to open a network connection is recorded and refused."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    attempts: list[object] = []

    def refuse(self_or_address: object, *args: object, **kwargs: object) -> None:
        attempts.append(args[0] if args else self_or_address)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


# --- What comes out -------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
def test_the_image_is_exactly_the_spec_size_for_every_aspect_ratio(ratio, model_folder):
    result = engine(model_folder).render(spec(aspect_ratio=ratio), Progress())
    assert (result.image.mode, result.image.size) == ("RGB", ASPECT_RATIOS[ratio])
    width, height = (int(side) for side in result.plan["render_size"].split("x"))
    assert max(width, height) == 64 and width % 8 == height % 8 == 0
    # The render keeps the aspect ratio as closely as sides in steps of 8 allow.
    spec_width, spec_height = ASPECT_RATIOS[ratio]
    scale = 64 / max(spec_width, spec_height)
    assert abs(width - spec_width * scale) <= 4 and abs(height - spec_height * scale) <= 4


def test_the_same_seed_gives_the_same_pixels_and_another_seed_other_pixels(model_folder):
    first = engine(model_folder).render(spec(seed=7), Progress()).image
    again = engine(model_folder).render(spec(seed=7), Progress()).image
    other = engine(model_folder).render(spec(seed=8), Progress()).image
    assert ImageChops.difference(first, again).getbbox() is None
    assert ImageChops.difference(first, other).getbbox() is not None


def test_style_and_palette_reach_the_model_as_words_in_the_prompt(model_folder):
    styled = spec(style="watercolor", colors=("#ff6600", "#003366"))
    result = engine(model_folder).render(styled, Progress())
    assert result.plan["prompt_sent"] == (
        "A lighthouse at dusk\nStyle: Watercolor painting effect.\nColour palette: #ff6600, #003366."
    )
    assert (result.plan["style_sent"], result.plan["colors_sent"]) == ("watercolor", ["#ff6600", "#003366"])
    plain = engine(model_folder).render(spec(), Progress())
    assert ImageChops.difference(result.image, plain.image).getbbox() is not None  # the words change the picture


def test_a_prompt_longer_than_the_text_encoder_reads_is_recorded_as_cut(model_folder):
    short = engine(model_folder).render(spec(style="watercolor"), Progress())
    assert "prompt_cut" not in short.plan
    long = engine(model_folder).render(spec(prompt="A lighthouse at dusk " * 6, style="watercolor"), Progress())
    assert long.plan["prompt_cut"].startswith(f"the text encoder reads at most {MAX_TOKENS} tokens")


def test_the_plan_and_info_record_what_was_run(model_folder):
    result = engine(model_folder, negative_prompt="blurry, text", guidance_scale=5.5).render(spec(), Progress())
    assert result.plan | {"prompt_sent": "…"} == {
        "deep_thinking": False,
        "deep_thinking_changed": "deep thinking was off",
        "steps": 2,
        "guidance_scale": 5.5,
        "prompt_sent": "…",
        "negative_prompt": "blurry, text",
        "render_size": "64x64",
        "pipeline": "StableDiffusionPipeline",
        "seed": 42,
        "style_sent": None,
        "colors_sent": [],
    }
    info = result.info
    assert (info["engine"], info["pipeline"], info["device"], info["dtype"]) == (
        "diffusers",
        "StableDiffusionPipeline",
        "cpu",
        "float32",
    )
    assert info["safety_checker"] == "none in the model folder" and info["model_output_size"] == "64x64"
    assert info["load_seconds"] >= 0 and info["denoise_seconds"] > 0


# --- Progress, deep thinking, cancellation -----------------------------------------------------


def test_progress_goes_by_denoising_step_in_order_and_ends_at_one(model_folder):
    the_engine = engine(model_folder, steps=3)
    first = Progress()
    the_engine.render(spec(), first)
    assert first.notes[:3] == ["loading model", "model loaded", "encoding prompt"]
    assert [note for note in first.notes if note.startswith("denoising")] == [
        "denoising 1/3",
        "denoising 2/3",
        "denoising 3/3",
    ]
    fractions = [fraction for fraction, _ in first.calls]
    assert fractions == sorted(fractions) and first.calls[-1] == (1.0, "done")

    second = Progress()
    result = the_engine.render(spec(), second)
    assert "loading model" not in second.notes and second.notes[0] == "encoding prompt"
    assert "load_seconds" not in result.info  # loaded once per process
    assert second.calls[-1] == (1.0, "done")


def test_deep_thinking_doubles_the_steps_raises_the_guidance_and_says_so(model_folder):
    progress = Progress()
    result = engine(model_folder, steps=2, guidance_scale=7.0).render(spec(deep_thinking=True), progress)
    assert (result.plan["deep_thinking"], result.plan["steps"], result.plan["guidance_scale"]) == (True, 4, 9.0)
    assert result.plan["deep_thinking_changed"] == (
        "denoising steps 2 -> 4 (doubled, at most 100); guidance scale 7 -> 9 (follows the prompt more closely)"
    )
    assert [note for note in progress.notes if note.startswith("denoising")][-1] == "denoising 4/4"


def test_a_cancellation_raised_by_the_progress_callback_stops_the_render_as_is(model_folder):
    class Canceled(Exception):
        pass

    def progress(fraction: float, note: str) -> None:
        if note.startswith("denoising"):
            raise Canceled

    with pytest.raises(Canceled):
        engine(model_folder, steps=5).render(spec(), progress)


# --- Failures ---------------------------------------------------------------------------------


def test_a_missing_folder_is_refused_clearly_without_touching_the_network(no_network, tmp_path):
    error = refusal(path=str(tmp_path / "no-such-model"))
    assert "is not an existing folder" in str(error) and "never downloads" in str(error)
    assert no_network == []


def test_a_hub_id_is_refused_not_downloaded(no_network):
    error = refusal(path="runwayml/stable-diffusion-v1-5")
    assert "'runwayml/stable-diffusion-v1-5' is not an existing folder" in str(error)
    assert "never downloads from a model hub" in str(error)
    assert no_network == []


def test_a_folder_that_is_not_a_pipeline_no_path_or_a_bad_option_is_refused(no_network, tmp_path, model_folder):
    assert "has no model_index.json" in str(refusal(path=str(tmp_path)))
    assert "needs options.path" in str(refusal())
    assert "options.dtype must be auto or one of" in str(refusal(path=str(model_folder), dtype="float8"))
    assert "steps must be at least 1" in str(refusal(path=str(model_folder), steps=-3))
    assert no_network == []


def test_the_model_folder_loads_with_no_network_at_all(no_network, model_folder):
    result = engine(model_folder).render(spec(), Progress())
    assert result.image.size == (1024, 1024) and no_network == []


def _unet_that_raises(the_engine: DiffusersEngine, monkeypatch, error: Exception) -> None:
    the_engine.render(spec(), Progress())  # loaded

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(the_engine._loaded.pipeline.unet, "forward", fail)


def test_running_out_of_memory_is_transient(model_folder, monkeypatch):
    the_engine = engine(model_folder)
    _unet_that_raises(the_engine, monkeypatch, torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate"))
    with pytest.raises(EngineError) as caught:
        the_engine.render(spec(), Progress())
    assert caught.value.transient and "Out of memory rendering 64x64 on cpu" in str(caught.value)


def test_another_pipeline_error_fails_the_generation_with_a_short_message(model_folder, monkeypatch):
    the_engine = engine(model_folder)
    _unet_that_raises(the_engine, monkeypatch, RuntimeError("shapes cannot be multiplied\n(long trace)"))
    with pytest.raises(EngineError) as caught:
        the_engine.render(spec(), Progress())
    error = caught.value
    assert (error.code, error.transient) == ("generation_failed", False)
    assert str(error) == "The diffusers pipeline failed (RuntimeError: shapes cannot be multiplied)."


# --- End to end -------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_renders_an_api_request_with_a_local_diffusers_model(account, start_worker, settings, model_folder):
    options = {"path": str(model_folder), **FAST}
    catalog = {"seedream-5.0-lite": {"engine": "diffusers", "options": options}}
    settings.STUDIO_MODELS = catalog
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(catalog), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    acct = account(credits=100)

    models = acct.http.get("/models").json()["data"]
    assert [(m["id"], m["engine"], m["label"], m["neural"]) for m in models] == [
        ("seedream-5.0-lite", "diffusers", "Diffusers (local model)", True)
    ]
    assert "model_index.json" in models[0]["description"]
    submitted = acct.http.post(
        "/images/generate",
        json={"model": "seedream-5.0-lite", "prompt": "A forest clearing", "aspect_ratio": "16:9", "seed": 5},
    )
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]

    result = poll_until_finished(acct, task_id, worker, timeout=120)
    assert result["status"] == "completed", result
    with httpx.Client(timeout=30) as anyone:
        stored = anyone.get(result["image_url"])
    with Image.open(io.BytesIO(stored.content)) as image:
        assert (image.format, image.size) == ("PNG", (1360, 768))
