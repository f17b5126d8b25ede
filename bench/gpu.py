"""GPU benchmark: the diffusers engine through Studio's render worker against a bare pipeline call.

Builds a diffusers pipeline from configs with random weights (nothing is downloaded; see
tests/diffusers_models.py): on CUDA, Stable Diffusion XL base's architecture in float16; on
CPU, the tiny Stable Diffusion of the engine's tests. Then renders N images of one prompt,
with the same steps, size, guidance, seeds, dtype and device, twice:

  - through Studio: `services.submit` in this process, one real `celery worker --pool solo`
    on the `render` queue (as the Procfile runs it) over the embedded filesystem broker and
    SQLite in a temporary folder, its catalog pointing the model id at the folder
    (STUDIO_MODELS_JSON); timed from the first submit to the last `completed`. That includes
    what Studio does per image and a bare call does not: claim, progress writes, fitting the
    picture to the spec's 1024x1024, PNG + WebP + thumbnail, storage, completion;
  - bare: the same folder loaded by the same pipeline class in this process, called N times.

Each side renders once first, so loading the model is left out of both. Both use the same
torch threads (OMP_NUM_THREADS for the worker), and the worker is stopped before the bare
pipeline runs, so the two never share the machine. Prints images/s for both and their ratio.

Run: .venv/bin/python bench/gpu.py [--n N] [--steps S] [--size PX] [--device auto|cpu|cuda]
     [--model auto|tiny-sd|tiny-sdxl|sdxl] [--threads T]
"""

from __future__ import annotations

import argparse
import atexit
import gc
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import folder  # noqa: E402

_VAR = str(folder("gpu-"))
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
os.environ["STUDIO_VAR_DIR"] = _VAR
os.environ["STUDIO_SQLITE_PATH"] = str(Path(_VAR) / "gpu.sqlite3")
os.environ["MEDIA_ROOT"] = str(Path(_VAR) / "media")
os.environ["DJANGO_SETTINGS_MODULE"] = "studio.settings"
os.environ["HF_HUB_OFFLINE"] = "1"  # and every load says local_files_only: nothing is fetched
os.environ.pop("DJANGO_DEBUG", None)

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
from diffusers.utils import logging as diffusers_logging  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

from accounts import ledger  # noqa: E402
from accounts import services as account_services  # noqa: E402
from accounts.tiers import LIMITS, Tier  # noqa: E402
from generations import services, specs  # noqa: E402
from generations.engines._shared import styled_prompt  # noqa: E402
from generations.engines.diffusers_engine import DEFAULT_GUIDANCE, MIN_SIDE_MULTIPLE, render_size  # noqa: E402
from generations.models import UNFINISHED, Generation, Stage  # noqa: E402
from tests.diffusers_models import build_sdxl, build_tiny_sd  # noqa: E402

MODEL_ID = "bench-diffusers"
PROMPT = "A lighthouse at dusk above a stormy sea"
SEED = 1000
MODELS = {"tiny-sd": "tiny SD", "tiny-sdxl": "tiny SDXL-shaped", "sdxl": "SDXL-sized"}
# Per device: (model, steps, size, n). CPU: what `make bench` runs on two cores in well under a minute.
DEFAULTS = {"cpu": ("tiny-sd", 20, 64, 6), "cuda": ("sdxl", 30, 1024, 8)}

diffusers_logging.set_verbosity_error()
diffusers_logging.disable_progress_bar()
transformers_logging.set_verbosity_error()
transformers_logging.disable_progress_bar()
# Random weights in float16 may give NaN pixels; the cast to 8 bits says so once per image.
warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)


def build_model(kind: str, device: str, dtype: torch.dtype) -> Path:
    folder = Path(_VAR) / "model"
    if kind == "tiny-sd":
        build_tiny_sd(folder)
    else:
        build_sdxl(folder, device=device, dtype=dtype, tiny=kind == "tiny-sdxl")
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()  # the worker loads its own copy: leave it the whole GPU
    return folder


def start_worker(catalog: dict[str, Any], threads: int) -> tuple[subprocess.Popen, Path]:
    log = Path(_VAR) / "worker.log"
    env = {**os.environ, "STUDIO_MODELS_JSON": json.dumps(catalog), "PYTHONUNBUFFERED": "1"}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "studio", "worker", "--hostname", "bench-render@%h",
         "--queues", "render", "--pool", "solo", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    return worker, log


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def submit_and_wait(user: Any, seeds: range, worker: subprocess.Popen, log: Path, timeout: float) -> list[Generation]:
    """Submit one generation per seed and wait (until `timeout` seconds) for all to finish."""
    ids = [
        services.submit(user=user, spec=specs.build_spec({"model": MODEL_ID, "prompt": PROMPT, "seed": seed}))
        .generations[0]
        .pk
        for seed in seeds
    ]
    deadline = time.monotonic() + timeout
    while Generation.objects.filter(pk__in=ids, stage__in=UNFINISHED).exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            why = f"exited with {worker.returncode}" if worker.poll() is not None else f"not done in {timeout:.0f} s"
            raise SystemExit(f"render worker {why}; its log ends:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)
    done = list(Generation.objects.filter(pk__in=ids).order_by("started_at"))
    failed = [g for g in done if g.stage != Stage.COMPLETED]
    if failed:
        raise SystemExit(f"{len(failed)} of {len(done)} failed: {failed[0].error_code}: {failed[0].error_message}")
    return done


def through_worker(catalog: dict[str, Any], n: int, threads: int) -> tuple[float, list[Generation], float]:
    """(seconds for n images from the first submit to the last completed, those images, warm-up seconds)."""
    call_command("migrate", verbosity=0)
    LIMITS[Tier.ENTERPRISE] = replace(LIMITS[Tier.ENTERPRISE], concurrent=10**6)  # this process only: N at once
    user = account_services.create_user(username="bench", password=None, tier="enterprise")
    with transaction.atomic():
        ledger.grant(user=user, amount=10_000_000, note="bench")
    worker, log = start_worker(catalog, threads)
    try:
        started = time.monotonic()
        submit_and_wait(user, range(SEED - 1, SEED), worker, log, timeout=900)  # starts up, loads the model
        warmup = time.monotonic() - started
        first_submit = time.time()
        done = submit_and_wait(user, range(SEED, SEED + n), worker, log, timeout=120 + 5 * n * warmup)
    finally:
        stop(worker)
    assert all((g.width, g.height) == (1024, 1024) for g in done)
    last = max(g.finished_at for g in done if g.finished_at)
    return last.timestamp() - first_submit, done, warmup


def bare(folder: Path, opts: dict[str, Any], n: int) -> tuple[float, tuple[int, int]]:
    """(seconds for n calls of the pipeline, the size it rendered), after one warm-up call."""
    import diffusers

    class_name = json.loads((folder / "model_index.json").read_text())["_class_name"]
    extra = (
        {"safety_checker": None, "requires_safety_checker": False} if class_name == "StableDiffusionPipeline" else {}
    )
    dtype = getattr(torch, opts["dtype"])
    pipeline = getattr(diffusers, class_name).from_pretrained(folder, local_files_only=True, dtype=dtype, **extra)
    pipeline = pipeline.to(opts["device"])
    pipeline.set_progress_bar_config(disable=True)
    multiple = max(MIN_SIDE_MULTIPLE, int(getattr(pipeline, "vae_scale_factor", 0) or 0))
    width, height = render_size(1024, 1024, max_side=opts["max_side"], multiple=multiple)
    prompt = styled_prompt(specs.Spec(model=MODEL_ID, prompt=PROMPT))  # what the engine sends

    def call(seed: int) -> None:
        generator = torch.Generator(opts["device"]).manual_seed(seed)
        image = pipeline(
            prompt=prompt, width=width, height=height, num_inference_steps=opts["steps"],
            guidance_scale=DEFAULT_GUIDANCE, output_type="pil", generator=generator,
        ).images[0]  # fmt: skip
        assert image.size == (width, height)

    call(SEED - 1)
    started = time.perf_counter()
    for seed in range(SEED, SEED + n):
        call(seed)
    return time.perf_counter() - started, (width, height)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms"


def report_breakdown(done: list[Generation], elapsed: float, bare_each: float) -> None:
    """Where a worker's image goes, from what the worker recorded on each generation."""
    n = len(done)
    denoise = sum(g.render_info["denoise_seconds"] for g in done) / n
    engine = sum(g.render_seconds or 0 for g in done) / n
    files = sum((g.finished_at - g.started_at).total_seconds() - (g.render_seconds or 0) for g in done) / n
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in itertools.pairwise(done)]
    print(f"  worker, per image (mean of {n}):")
    print(f"    the pipeline call in the engine {ms(denoise)}   (bare: {ms(bare_each).strip()}; with progress writes)")
    print(f"    the rest of engine.render       {ms(engine - denoise)}   (prompt, generator, fit to 1024x1024)")
    print(f"    files and completion            {ms(files)}   (PNG + WebP + thumbnail, storage, complete)")
    if gaps:
        print(f"    between one and the next        {ms(sum(gaps) / len(gaps))}   (message pickup, claim)")
    print(f"    in all                          {ms(elapsed / n)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="images per side (default: cpu 6, cuda 8)")
    parser.add_argument("--steps", type=int, help="denoising steps (default: cpu 20, cuda 30)")
    parser.add_argument("--size", type=int, help="longest side rendered, the engine's max_side (cpu 64, cuda 1024)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--model", choices=("auto", *MODELS), default="auto", help="cpu: tiny-sd, cuda: sdxl")
    parser.add_argument("--threads", type=int, help="torch threads on both sides (default: torch's own)")
    args = parser.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here")
    kind, steps, size, n = DEFAULTS[device]
    kind = kind if args.model == "auto" else args.model
    steps, size, n = args.steps or steps, args.size or size, args.n or n
    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    dtype = "float16" if device == "cuda" else "float32"
    opts = {"path": "", "device": device, "dtype": dtype, "steps": steps, "max_side": size}

    started = time.monotonic()
    opts["path"] = str(build_model(kind, device, getattr(torch, dtype)))
    catalog = {MODEL_ID: {"engine": "diffusers", "options": opts}}
    settings.STUDIO_MODELS = catalog  # this process submits; the worker reads STUDIO_MODELS_JSON
    built = time.monotonic() - started
    worker_seconds, done, warmup = through_worker(catalog, n, threads)
    bare_seconds, (width, height) = bare(Path(opts["path"]), opts, n)

    name = torch.cuda.get_device_name() if device == "cuda" else f"{threads} torch threads each side"
    worker_rate, bare_rate = n / worker_seconds, n / bare_seconds
    ratio = worker_rate / bare_rate
    print(
        f"device {device} ({name}); model {MODELS[kind]} ({done[0].render_info['pipeline']}, random weights, {dtype})"
    )
    print(f"{steps} steps, {width}x{height} rendered (the spec's 1024x1024 delivered), guidance {DEFAULT_GUIDANCE:g}")
    print(
        f"N = {n} images a side, after one warm-up render each (model built in {built:.1f} s, worker warm-up {warmup:.1f} s)"
    )
    print(f"  studio worker (submit -> completed)  {worker_rate:8.3f} images/s   ({worker_seconds:.2f} s)")
    print(f"  bare pipeline call                   {bare_rate:8.3f} images/s   ({bare_seconds:.2f} s)")
    report_breakdown(done, worker_seconds, bare_seconds / n)
    print(f"gpu: ratio {ratio:.2f} (studio worker / bare pipeline, goal >= 0.95), {device}, {MODELS[kind]} model")


if __name__ == "__main__":
    main()
