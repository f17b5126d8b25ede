"""`make run` under steady use: batches kept in flight for minutes; nothing lost, nothing dies.

Starts `python -m studio.run` exactly as `make run` does (embedded defaults: SQLite, the
filesystem broker, the typeset engine; a private temporary folder), then keeps
`--batches` batches of `--size` images in flight through the real HTTP API for
`--seconds`: each time one ends, another is submitted. Afterwards it prints how many
images were submitted, completed and lost, how the credits moved, how many times a
process of `studio.run` exited, and how often `/healthz` was not 200.

Run: .venv/bin/python bench/steady.py [--seconds 180] [--batches 5] [--size 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import folder  # noqa: E402

PRICE = 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _wait_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url}/healthz never answered 200")


def _submit(http: httpx.Client, size: int, n: int) -> str:
    body = {
        "generations": [
            {"model": "seedream-5.0-lite", "prompt": f"Poster with text 'SHIFT {n}-{i}'"} for i in range(size)
        ]
    }
    response = http.post("/v1/images/batch", json=body)
    response.raise_for_status()
    return str(response.json()["batch_id"])


def run(seconds: float, batches: int, size: int) -> int:
    var = folder("steady-")
    port = _free_port()
    env = {
        **os.environ,
        "STUDIO_VAR_DIR": str(var),
        "STUDIO_PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "studio.settings",
    }
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(
        env, "createuser", "steady", "--password", "a-long-password-1", "--tier", "enterprise", "--credits", "100000"
    )
    key = _manage(env, "createapikey", "--user", "steady").splitlines()[-1]
    log_path = var / "studio-run.log"
    studio = subprocess.Popen([sys.executable, "-m", "studio.run"], cwd=ROOT, env=env,
                              stdout=log_path.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    finished: dict[str, dict] = {}
    health_not_ok = health_checks = 0
    try:
        _wait_up(url, time.monotonic() + 90)
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        start_credits = http.get("/v1/account/credits").json()["credits_remaining"]
        in_flight = [_submit(http, size, n) for n in range(batches)]
        submitted = batches
        started = time.monotonic()
        while in_flight:
            time.sleep(1.0)
            health_checks += 1
            health_not_ok += httpx.get(f"{url}/healthz", timeout=10).status_code != 200
            for batch_id in list(in_flight):
                body = http.get(f"/v1/images/batch/{batch_id}").json()
                if body["status"] == "completed":
                    in_flight.remove(batch_id)
                    finished[batch_id] = body
                    if time.monotonic() - started < seconds:
                        in_flight.append(_submit(http, size, submitted))
                        submitted += 1
            if time.monotonic() - started > seconds + 300:
                print(f"{len(in_flight)} batches still unfinished 5 minutes after the last submission")
                break
        elapsed = time.monotonic() - started
        end_credits = http.get("/v1/account/credits").json()["credits_remaining"]
    finally:
        studio.send_signal(signal.SIGINT)
        try:
            studio.wait(60)
        except subprocess.TimeoutExpired:
            studio.kill()
    images = submitted * size
    completed = sum(body["counts"]["completed"] for body in finished.values())
    failed = sum(body["counts"]["failed"] + body["counts"]["canceled"] for body in finished.values())
    log = log_path.read_text(errors="replace")
    exits = [line for line in log.splitlines() if "exited with" in line and line.startswith("studio.run:")]
    spent = start_credits - end_credits
    print(f"make run under steady use: {batches} batches of {size} kept in flight for {seconds:.0f} s")
    print(f"  ran {elapsed:.0f} s; {submitted} batches, {images} images submitted")
    print(f"  completed {completed}, failed {failed}, lost {images - completed - failed}")
    print(f"  credits spent {spent} = {PRICE} x {completed} completed: {spent == PRICE * completed}")
    print(f"  throughput {completed / elapsed:.2f} images/s")
    print(f"  processes that exited: {len(exits)}" + "".join(f"\n    {line}" for line in exits))
    print(f"  /healthz not 200: {health_not_ok} of {health_checks} checks")
    print(f"  log: {log_path}")
    return 0 if completed == images and spent == PRICE * completed and not exits else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=10)
    args = parser.parse_args()
    raise SystemExit(run(args.seconds, args.batches, args.size))


if __name__ == "__main__":
    main()
