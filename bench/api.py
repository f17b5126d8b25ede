"""API benchmark: requests/s of the /v1 endpoints against a bare Django JSON view, same server.

Starts gunicorn (2 sync workers, `studio.wsgi`) on a free loopback port over a fresh SQLite
database in a temporary folder, creates an enterprise account with plenty of credits and
an API key, then sends a fixed number of requests per endpoint from a few client threads
(each endpoint bounded by count and by time) and prints, side by side:

  - GET  /bench/plain              a bare Django JSON view (the baseline)
  - POST /v1/images/generate       validate, check limits, charge, create, enqueue
  - GET  /v1/images/{task_id}      a completed image: three freshly signed links

as requests/s and as a ratio of the baseline. Every /v1 request goes through the real
path: Bearer key lookup, the per-minute counter in the database cache, the service, the
reply validated against its schema. The benchmark's account has its tier's limits raised
(bench/api_urls.py) so that the limiter counts but never refuses.

Run: .venv/bin/python bench/api.py [--requests 600] [--threads 4] [--seconds 60]
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_VAR = tempfile.mkdtemp(prefix="studio-bench-api-")
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600, help="requests per endpoint")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per endpoint")
    args = parser.parse_args()

    key, task_id = prepare()
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    body = {"model": specs.DEFAULT_MODEL, "prompt": PROMPT, "aspect_ratio": "16:9"}
    cases: dict[str, Callable[[httpx.Client], httpx.Response]] = {
        "GET  /bench/plain (bare Django JSON)": lambda c: c.get(f"{base}/bench/plain"),
        "POST /v1/images/generate": lambda c: c.post(f"{base}/v1/images/generate", json=body, headers=auth),
        "GET  /v1/images/{task_id}": lambda c: c.get(f"{base}/v1/images/{task_id}", headers=auth),
    }
    try:
        for send in cases.values():  # warm both workers up: imports, connections, caches
            measure(send, total=40, threads=args.threads, seconds=args.seconds)
        rates = {
            name: measure(send, total=args.requests, threads=args.threads, seconds=args.seconds)
            for name, send in cases.items()
        }
    finally:
        server.terminate()
        server.wait(20)

    baseline = next(iter(rates.values()))
    print(f"gunicorn, 2 sync workers, SQLite + database cache; {args.threads} client threads,")
    print(f"{args.requests} requests per endpoint (or {args.seconds:.0f} s), same server, same run:")
    print(f"  {'endpoint':38} {'req/s':>8}   {'ratio to bare view':>18}")
    for name, rate in rates.items():
        print(f"  {name:38} {rate:8.0f}   {rate / baseline:17.2f}x")


if __name__ == "__main__":
    main()
