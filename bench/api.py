"""API benchmark: requests/s of the /v1 endpoints against a bare Django JSON view, same server.

For each stack, the embedded default (SQLite, the filesystem broker, the file-counter
cache) and the scale-out one (PostgreSQL, Redis as broker and cache, S3-compatible
storage, all started on loopback by `tests/backends.py`), a child process starts gunicorn
(2 sync workers, `studio.wsgi`) on a free loopback port over a fresh database, creates an
enterprise account with plenty of credits and an API key, and one completed image. Then,
in `--rounds` rounds, it sends `--requests` requests per endpoint from `--threads` client
threads (httpx, keep-alive), one endpoint after another within each round:

  - GET  /bench/plain              a bare Django JSON view (the baseline)
  - POST /v1/images/generate       validate, check limits, charge, create, enqueue, estimate
  - GET  /v1/images/{task_id}      a completed image: three freshly signed links

and prints req/s (median of the rounds) and the ratio to the baseline (median of each
round's ratio: a round's endpoints run within seconds of each other, so a machine that
slows down between rounds moves both sides). Every /v1 request goes through the real path:
Bearer key lookup, the per-minute counter, the service, the reply. The benchmark's
account has its tier's limits raised (bench/api_urls.py) so that the limiter counts but
never refuses. The clients share the machine with the server, as they do on one laptop.

Run: .venv/bin/python bench/api.py [--stack both|embedded|scale-out] [--rounds 3] [--requests 400] [--threads 4]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import folder  # noqa: E402

_VAR = str(folder("api-"))
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
os.environ["STUDIO_VAR_DIR"] = _VAR
os.environ["STUDIO_SQLITE_PATH"] = str(Path(_VAR) / "api.sqlite3")
os.environ["MEDIA_ROOT"] = str(Path(_VAR) / "media")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"
os.environ.pop("DJANGO_DEBUG", None)

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from PIL import Image  # noqa: E402

from accounts import ledger  # noqa: E402
from accounts import services as account_services  # noqa: E402
from generations import services, specs, storage  # noqa: E402
from generations.worker import transitions  # noqa: E402

PROMPT = "Professional YouTube thumbnail with text 'TOP 10 TIPS' in bold red font, bright blue background"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare() -> tuple[str, str]:
    """Migrate, create the account and key, and one completed image to poll. (key, task_id)"""
    call_command("migrate", verbosity=0)
    user = account_services.create_user(username="bench", password=None, tier="enterprise")
    with transaction.atomic():
        ledger.grant(user=user, amount=10_000_000, note="bench")
    _, key = account_services.create_api_key(user=user, name="bench")
    spec = specs.build_spec({"model": specs.DEFAULT_MODEL, "prompt": PROMPT})
    generation = services.submit(user=user, spec=spec).generations[0]
    claimed = transitions.claim(generation.pk)
    image = Image.new("RGB", (claimed.width, claimed.height), "#3366cc")
    files = storage.save_images(claimed, image, claimed.parameters())
    assert transitions.complete(claimed, files=files, plan={}, info={}, seconds=0.1)
    return key, generation.public_id


def start_server(port: int) -> subprocess.Popen:
    log = Path(_VAR) / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "studio.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=dict(os.environ), stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/plain", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-2000:]}")


def measure(send: Callable[[httpx.Client], httpx.Response], *, total: int, threads: int, seconds: float) -> float:
    """Requests/s for `total` requests over `threads` clients, stopping early at `seconds`."""
    lock = threading.Lock()
    state = {"left": total, "done": 0, "errors": 0}
    deadline = time.monotonic() + seconds

    def run() -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    if state["left"] == 0:
                        return
                    state["left"] -= 1
                response = send(client)
                with lock:
                    state["done"] += 1
                    state["errors"] += response.status_code != 200

    workers = [threading.Thread(target=run) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if state["errors"]:
        raise SystemExit(f"{state['errors']} of {state['done']} requests did not answer 200")
    return state["done"] / elapsed


GOALS = {"POST /v1/images/generate": 0.5, "GET  /v1/images/{task_id}": 0.8}
BASELINE = "GET  /bench/plain (bare Django JSON)"
LABELS = {"POST /v1/images/generate": "generate", "GET  /v1/images/{task_id}": "get image"}
STACKS = {
    "embedded": "SQLite, filesystem broker, file counters, local files",
    "scale-out": "PostgreSQL, Redis broker and cache, S3-compatible storage",
}


def child(args: argparse.Namespace) -> None:
    """One stack, in this process's environment: prints one JSON line of each round's req/s."""
    key, task_id = prepare()
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    body = {"model": specs.DEFAULT_MODEL, "prompt": PROMPT, "aspect_ratio": "16:9"}
    cases: dict[str, Callable[[httpx.Client], httpx.Response]] = {
        BASELINE: lambda c: c.get(f"{base}/bench/plain"),
        "POST /v1/images/generate": lambda c: c.post(f"{base}/v1/images/generate", json=body, headers=auth),
        "GET  /v1/images/{task_id}": lambda c: c.get(f"{base}/v1/images/{task_id}", headers=auth),
    }
    rounds: list[dict[str, float]] = []
    try:
        for send in cases.values():  # warm both workers up: imports, connections, compiled queries
            measure(send, total=60, threads=args.threads, seconds=args.seconds)
        for _ in range(args.rounds):
            rounds.append(
                {
                    name: measure(send, total=args.requests, threads=args.threads, seconds=args.seconds)
                    for name, send in cases.items()
                }
            )
    finally:
        server.terminate()
        server.wait(20)
    print("ROUNDS " + json.dumps(rounds), flush=True)


def run_stack(stack: str, args: argparse.Namespace) -> list[dict[str, float]]:
    """Run `child` for `stack` in a fresh process (and, for scale-out, fresh servers)."""
    command = [sys.executable, __file__, "--child", *(f"--{k}={v}" for k, v in
               (("rounds", args.rounds), ("requests", args.requests), ("threads", args.threads),
                ("seconds", args.seconds)))]  # fmt: skip
    with contextlib.ExitStack() as stack_of:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
        if stack == "scale-out":
            from tests import backends

            where = folder("api-servers-")
            stack_of.callback(shutil.rmtree, where, ignore_errors=True)
            urls = [stack_of.enter_context(serve(where)) for serve in (backends.postgres, backends.redis, backends.s3)]
            env.update(backends.environment(*urls))
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    line = next((x for x in done.stdout.splitlines() if x.startswith("ROUNDS ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"api ({stack}) failed with {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    return json.loads(line.removeprefix("ROUNDS "))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", choices=("both", *STACKS), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint per round")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per endpoint per round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    print(f"gunicorn, 2 sync workers; {args.threads} client threads (httpx) on the same machine;")
    print(f"{args.rounds} rounds of {args.requests} requests per endpoint, endpoints side by side in each round")
    summary = []
    for stack in STACKS if args.stack == "both" else [args.stack]:
        rounds = run_stack(stack, args)
        print(f"{stack} ({STACKS[stack]}):")
        print(f"  {'endpoint':38} {'req/s':>8}   {'ratio to bare view':>18}   goal")
        for name in rounds[0]:
            rate = statistics.median(r[name] for r in rounds)
            ratio = statistics.median(r[name] / r[BASELINE] for r in rounds)
            goal = f">= {GOALS[name]}x" if name in GOALS else ""
            print(f"  {name:38} {rate:8.0f}   {ratio:17.2f}x   {goal}")
            if name in GOALS:
                summary.append(f"{stack} {LABELS[name]} {ratio:.2f}x (goal {GOALS[name]})")
    print("api: " + "; ".join(summary))


if __name__ == "__main__":
    main()
