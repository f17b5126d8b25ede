"""Peer benchmark: Studio side by side with Replicate's cog, same render, same machine, one run.

Both servers do the same model work: `render()` from the cog peer harness's
`cog_predictor/predict.py` (a gradient and the prompt, Pillow, 1024x1024). cog serves it
with its Rust server (coglet) from a venv of its own under `var/peer/cogvenv`; Studio
serves it through the bench-only `peer` engine (`bench/peer_engine.py`, registered by
`bench/peer_settings.py`) with gunicorn, two solo render workers and a webhooks worker on
the embedded defaults (SQLite, filesystem broker), in a fresh temporary folder. One server
runs at a time, on loopback only, with clients in this process (stdlib `http.client`, one
keep-alive connection per client thread) sharing the machine's cores. Measured:

  render     the bare render + PNG encode (`render_png`) in this process, one sample just before
             each timed sequential request (80 a server): the work both must do, subtracted
             to give overheads (sampled between requests, as the machine's speed drifts)
  sequential cog: sync POST /predictions latency; Studio: POST /v1/images/generate, then
             GET /v1/images/{task_id} every --poll-ms (5) until `completed`; median - render
  webhook    submit -> `completed` webhook at a receiver in this script (127.0.0.1):
             cog with `Prefer: respond-async` and webhook_events_filter ["completed"],
             Studio with `webhook_url`; median - render. R = Studio's / cog's
  throughput renders/s with 8 clients for --duration s: cog sync POSTs (a 409 "slots busy"
             is counted and backed off 20 ms); Studio submit, then poll every --load-poll-ms
             (100: each poll costs the web a few ms of CPU, so 8 clients polling every 20 ms
             would spend a core on polls; the document's examples poll every 2 s). Any refusal
             or error is counted, and should be 0. T = Studio's / cog's

and, under load, the CPU each process spent per completed render (from /proc); then where
Studio's webhook time went (from its database rows), a table, the issue's goals, and as the
last line the two ratios. The peer harness is found at ../shared/peers next to the
repository, or STUDIO_PEERS_DIR; without it the benchmark says so and exits 0.

Run: .venv/bin/python bench/peer.py [--duration 20] [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
# Import bench modules as `bench.…` from the root; bench/ itself off the path, so that no file
# there can shadow a standard module (a `bench/queue.py` would hide `queue`, as it once did).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
PEERS = Path(os.environ.get("STUDIO_PEERS_DIR") or ROOT.parent / "shared" / "peers")
if not (PEERS / "cog_predictor" / "predict.py").is_file():
    print(f"peer: skipped: no cog peer harness at {PEERS} (cog_predictor/predict.py); set STUDIO_PEERS_DIR")
    sys.exit(0)
COG_VENV = Path(os.environ.get("STUDIO_VAR_DIR") or ROOT / "var") / "peer" / "cogvenv"
from bench.scratch import folder  # noqa: E402

RUN = folder("peer-")
if "--keep" not in sys.argv:
    atexit.register(shutil.rmtree, RUN, ignore_errors=True)
PREDICTOR = RUN / "cog_predictor"
for _name in ("DJANGO_DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "REDIS_URL"):
    os.environ.pop(_name, None)  # the embedded defaults, whatever this shell points at
os.environ.update(
    STUDIO_VAR_DIR=str(RUN / "var"),
    STUDIO_SQLITE_PATH=str(RUN / "var" / "peer.sqlite3"),
    MEDIA_ROOT=str(RUN / "var" / "media"),
    DJANGO_SETTINGS_MODULE="bench.peer_settings",
    STUDIO_PEER_PREDICT_PY=str(PREDICTOR / "predict.py"),
    STUDIO_WEBHOOK_ALLOW_PRIVATE="1",  # the receiver is on loopback
    PYTHONUNBUFFERED="1",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from accounts import ledger  # noqa: E402
from accounts import services as account_services  # noqa: E402
from bench.peer_clients import (  # noqa: E402
    BUSY_BACKOFF,
    TERMINAL,
    TIMEOUT,
    WARMUP,
    Client,
    Failed,
    Load,
    Receiver,
    Runs,
    Side,
    median,
    p90,
    report,
    throughput,
    timed,
)
from bench.peer_engine import load_predictor  # noqa: E402
from bench.peer_servers import Cog, Server, Studio, ensure_cog_venv  # noqa: E402
from generations import storage  # noqa: E402
from generations.models import Generation, WebhookAttempt  # noqa: E402

PROMPT = "a lighthouse at dusk"
COG_INPUT = {"prompt": PROMPT, "width": 1024, "height": 1024}
STUDIO_BODY = {"model": "seedream-5.0-lite", "prompt": PROMPT, "aspect_ratio": "1:1"}  # 1024x1024
RETRY_409 = 0.002  # cog: re-send a sequential request refused with 409 (not timed)


class Bare:
    """The bare render (render() + PNG, as cog's predictor does it) timed in this process.

    One sample is taken just before each timed sequential request, while the server is idle,
    so that the baseline sees the same machine as the requests do: on a shared machine the
    render's median drifts by more than cog's whole overhead within seconds.
    """

    def __init__(self, predict: ModuleType) -> None:
        self.predict = predict
        self.samples: list[float] = []
        for _ in range(WARMUP):
            self.once()

    def once(self) -> float:
        t0 = time.perf_counter()
        os.unlink(self.predict.render_png(PROMPT, 1024, 1024))
        return (time.perf_counter() - t0) * 1000

    def __call__(self) -> None:
        self.samples.append(self.once())


# --- cog ----------------------------------------------------------------------------------------


def cog_error(status: int, raw: bytes) -> str | None:
    d = json.loads(raw) if status == 200 else {}
    if d.get("status") == "succeeded" and str(d.get("output")).startswith("data:image/png"):
        return None
    return f"HTTP {status} {raw[:160]!r}"


def cog_post(c: Client, body: dict, headers: dict | None = None) -> tuple[int, bytes, float, int]:
    """POST /predictions, re-sending a 409 after 2 ms: (status, body, start of the accepted try, 409s)."""
    for refused in range(500):
        t0 = time.perf_counter()
        status, raw = c.request("POST", "/predictions", body, headers)
        if status != 409:
            return status, raw, t0, refused
        time.sleep(RETRY_409)
    raise Failed("cog: 500 refusals in a row")


def cog_runs(port: int, n: int, bare: Bare, rx: Receiver | None = None) -> Runs:
    """Sync POSTs, or (with `rx`) async submits timed until their completed webhook."""
    c, runs = Client(port), Runs()
    body: dict = {"input": COG_INPUT}
    if rx is not None:
        body.update(webhook=rx.url, webhook_events_filter=["completed"])
    for i in range(WARMUP + n):
        if i >= WARMUP:
            bare()
        status, raw, t0, refused = cog_post(c, body, {"Prefer": "respond-async"} if rx else None)
        answered = done = time.perf_counter()
        if rx is None and (err := cog_error(status, raw)):
            raise Failed(f"cog sync prediction failed: {err}")
        if rx is not None:
            if status != 202:
                raise Failed(f"cog async submit: HTTP {status} {raw[:160]!r}")
            done, end = rx.wait(json.loads(raw)["id"])
            if end != "succeeded":
                raise Failed(f"cog async prediction ended {end}")
        if i >= WARMUP:
            runs.lat.append((done - t0) * 1000)
            runs.accept.append((answered - t0) * 1000)
            runs.refused += refused
    c.close()
    return runs


def cog_one(c: Client) -> str:
    status, raw = c.request("POST", "/predictions", {"input": COG_INPUT})
    if status == 409:  # "At capacity - all prediction slots busy"
        time.sleep(BUSY_BACKOFF)
        return "refused"
    return cog_error(status, raw) or "ok"


# --- Studio -------------------------------------------------------------------------------------


class Refused(Failed):
    """A submit that Studio did not accept."""

    def __init__(self, status: int, raw: bytes) -> None:
        super().__init__(f"studio submit: HTTP {status} {raw[:200]!r}")
        self.status = status


def studio_render(c: Client, body: dict, poll: float, rx: Receiver | None = None) -> tuple[str, float, float]:
    """Submit one image; wait for its webhook, or poll every `poll` s: (task id, perf at submit's answer, at completion)."""
    status, raw = c.request("POST", "/v1/images/generate", body)
    answered = time.perf_counter()
    if status != 200:
        raise Refused(status, raw)
    task = json.loads(raw)["task_id"]
    if rx is not None:
        arrived, end = rx.wait(task)
        if end != "completed":
            raise Failed(f"studio {task} ended {end}")
        return task, answered, arrived
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        status, raw = c.request("GET", f"/v1/images/{task}")
        d = json.loads(raw) if status == 200 else {}
        if d.get("status") == "completed":
            return task, answered, time.perf_counter()
        if status != 200 or d.get("status") in TERMINAL:
            raise Failed(f"studio poll {task}: HTTP {status} {raw[:200]!r}")
        time.sleep(poll)
    raise Failed(f"studio {task} not completed within {TIMEOUT:.0f} s")


def studio_runs(port: int, key: str, n: int, poll: float, bare: Bare | None, rx: Receiver | None = None) -> Runs:
    """`n` images one after another (after warm-up), polled or (with `rx`) taken by webhook."""
    c, runs = Client(port, {"Authorization": f"Bearer {key}"}), Runs()
    body = {**STUDIO_BODY, "webhook_url": rx.url} if rx else STUDIO_BODY
    for i in range(WARMUP + n):
        if i >= WARMUP and bare is not None:
            bare()
        wall, t0 = time.time(), time.perf_counter()
        task, answered, done = studio_render(c, body, poll, rx)
        if i >= WARMUP:
            runs.lat.append((done - t0) * 1000)
            runs.accept.append((answered - t0) * 1000)
            runs.tasks.append(task)
            runs.walls.append(wall)
    c.close()
    return runs


def studio_one(poll: float) -> Callable[[Client], str]:
    def one(c: Client) -> str:
        try:
            studio_render(c, STUDIO_BODY, poll)
        except Refused as exc:
            if exc.status in (402, 409, 429, 503):  # out of credits, over a limit, busy: a refusal
                time.sleep(BUSY_BACKOFF)
                return "refused"
            raise
        return "ok"

    return one


def under_load(name: str, servers: list[Server], run: Callable[[], Load]) -> Load:
    """Run a throughput phase and say how much CPU each process (and this one) spent per completed render."""

    def cpu() -> dict[str, float]:
        return {**{s.name: s.cpu_seconds() for s in servers}, "clients": time.process_time()}

    before = cpu()
    load = run()
    spent = {k: (v - before[k]) * 1000 / max(load.ok, 1) for k, v in cpu().items()}
    print(f"# {name}: CPU ms per completed render under load: "
          + ", ".join(f"{k} {v:.1f}" for k, v in spent.items()) + f" (sum {sum(spent.values()):.1f}); "
          f"{load.requests / max(load.ok, 1):.1f} HTTP requests per completed render", flush=True)  # fmt: skip
    return load


def prepare_account() -> str:
    """Migrate the fresh database; an enterprise account with plenty of credits; its API key."""
    call_command("migrate", verbosity=0)
    user = account_services.create_user(username="peer", password=None, tier="enterprise")
    with transaction.atomic():
        ledger.grant(user=user, amount=10_000_000, note="bench")
    return account_services.create_api_key(user=user, name="peer")[1]


def breakdown(runs: Runs) -> dict[str, float]:
    """Where each timed webhook run's time went, from Studio's rows: medians (ms) of each stretch."""
    parts: dict[str, list[float]] = {}
    for task, wall, total in zip(runs.tasks, runs.walls, runs.lat, strict=True):
        g = Generation.objects.get(public_id=task)
        attempt = WebhookAttempt.objects.filter(delivery__generation=g).order_by("number").first()
        if not (g.started_at and g.finished_at and attempt):
            raise Failed(f"studio {task}: no claim, finish or webhook attempt recorded")
        claim, finish, post = (
            (t.timestamp() - wall) * 1000 for t in (g.started_at, g.finished_at, attempt.attempted_at)
        )
        engine = 1000 * (g.render_seconds or 0)
        for name, value in {
            "submit -> claimed by a render worker (request, commit, broker, worker poll)": claim,
            "claimed -> engine done (render(), one progress write)": engine,
            "engine done -> completed row (PNG+WebP+thumbnail, files, update)": finish - claim - engine,
            "completed row -> webhook attempt (commit, broker, notifier poll, claim)": post - finish,
            "webhook POST to the receiver (sign, connect, send, answer)": float(attempt.duration_ms),
            "rest (recording the attempt, clock resolution)": total - post - attempt.duration_ms,
        }.items():
            parts.setdefault(name, []).append(value)
    return {name: median(values) for name, values in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=None, help="seconds per throughput run (20; --quick 5)")
    parser.add_argument("--quick", action="store_true", help="fewer runs: a check that it all works")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="Studio: poll interval, sequential phase")
    parser.add_argument("--load-poll-ms", type=float, default=100.0, help="Studio: poll interval under load")
    parser.add_argument("--keep", action="store_true", help="keep the logs and database (the folder is printed)")
    args = parser.parse_args()
    duration = args.duration or (5.0 if args.quick else 20.0)
    n_seq, n_hook = (15, 10) if args.quick else (50, 30)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds, so everything started is stopped
    print(f"# load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
          + (f"; logs and database kept in {RUN}" if args.keep else ""), flush=True)  # fmt: skip
    started = time.monotonic()
    shutil.copytree(PEERS / "cog_predictor", PREDICTOR, copy_function=shutil.copyfile)
    for path in (PREDICTOR, *PREDICTOR.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the harness is read-only; cog writes __pycache__ here
    predict = load_predictor(str(PREDICTOR / "predict.py"))
    ensure_cog_venv(COG_VENV)

    cog_side, bare = Side(), Bare(predict)
    cog = Cog(venv=COG_VENV, predictor=PREDICTOR, run_dir=RUN)
    try:
        up = cog.start()
        version = cog.health.get("version") or {}
        print(f"# cog {version.get('python_sdk')} (coglet {version.get('coglet')}) READY in {up:.1f} s", flush=True)
        rx = Receiver()
        cog_side.seq, cog_side.hook = cog_runs(cog.port, n_seq, bare), cog_runs(cog.port, n_hook, bare, rx)
        rx.close()
        cog_side.load = under_load("cog", [cog.server], lambda: throughput(cog.port, duration, cog_one))
    finally:
        cog.stop()
    print(f"# cog: sequential submits refused with 409 and re-sent (untimed): sync {cog_side.seq.refused}, "
          f"async {cog_side.hook.refused}; errors under load: {cog_side.load.errors or 'none'}", flush=True)  # fmt: skip

    key = prepare_account()
    cog_side.render_ms = median(bare.samples)
    print(f"# cog: bare render between its requests: median {cog_side.render_ms:.2f} ms, p90 {p90(bare.samples):.2f} ms, "
          f"n={len(bare.samples)}", flush=True)  # fmt: skip
    studio_side, bare = Side(), Bare(predict)
    studio = Studio(env=dict(os.environ), logs=RUN)
    try:
        up = studio.start()
        print(f"# studio: gunicorn (2 workers x 4 threads), 2 solo render workers, webhooks worker: ready in {up:.1f} s",
              flush=True)  # fmt: skip
        warm = [
            threading.Thread(target=studio_runs, args=(studio.port, key, 0, 0.02, None), daemon=True) for _ in range(4)
        ]
        for t in warm:  # both render workers load the engine before anything is timed
            t.start()
        for t in warm:
            t.join(4 * TIMEOUT)
        studio_side.seq = studio_runs(studio.port, key, n_seq, args.poll_ms / 1000, bare)
        rx = Receiver()
        studio_side.hook = studio_runs(studio.port, key, n_hook, 0, bare, rx)
        rx.close()
        auth = {"Authorization": f"Bearer {key}"}
        one = studio_one(args.load_poll_ms / 1000)
        studio_side.load = under_load("studio", studio.servers, lambda: throughput(studio.port, duration, one, auth))
    finally:
        studio.stop()
    if studio_side.load.errors:
        print(f"# studio: errors under load: {studio_side.load.errors}")

    studio_side.render_ms = median(bare.samples)
    print(f"# studio: bare render between its requests: median {studio_side.render_ms:.2f} ms, p90 "
          f"{p90(bare.samples):.2f} ms, n={len(bare.samples)}", flush=True)  # fmt: skip
    sample = Generation.objects.filter(stage="completed").first()
    image = predict.render(PROMPT, 1024, 1024)
    render_only = median(timed(lambda: predict.render(PROMPT, 1024, 1024), 20))
    encode_ms = median(timed(lambda: storage.encode_all(image, sample.parameters()), 20)) if sample else float("nan")
    print(f"# studio, where submit -> webhook went (medians of {n_hook}, ms); for scale, in this process with the "
          f"servers stopped: render() {render_only:.1f}, storage.encode_all {encode_ms:.1f}")  # fmt: skip
    for name, value in breakdown(studio_side.hook).items():
        print(f"#   {name:76} {value:7.1f}")
    report(cog_side, studio_side, duration=duration, args=args, took=time.monotonic() - started)


if __name__ == "__main__":
    main()
