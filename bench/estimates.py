"""Queue benchmark: are the estimates right, and how much does a waiting gallery poll?

Starts `python -m studio.run` exactly as `make run` does (embedded defaults, two render
slots, the typeset engine; a private temporary folder), warms it up with a few renders
(so that render times and slots have been measured), then:

  1. submits a batch of `--size` images through the API, reads each image's
     `estimated_time_remaining` (and the batch's) at once, then watches the batch until
     every image has completed, and prints how far each estimate was from the real wait
     (goal: within ±30 %; the field is whole seconds, so for the first few images, whose
     wait is under a few seconds, within 1 s is as close as it can say);
  2. submits another batch, opens the studio page in Chromium (Playwright on Debian's
     chromium) and counts the requests the page sends while `--tiles` tiles are pending,
     then after none are (goal: one request per gallery per second, then none).

Run: .venv/bin/python bench/estimates.py [--size 48] [--tiles 25]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steady import ROOT, _free_port, _manage, _wait_up

from bench.scratch import folder

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "a-long-password-1"


def _batch(http: httpx.Client, size: int, tag: str) -> dict:
    body = {
        "generations": [{"model": "seedream-5.0-lite", "prompt": f"Poster with text '{tag} {i}'"} for i in range(size)]
    }
    response = http.post("/v1/images/batch", json=body)
    response.raise_for_status()
    return response.json()


def _wait_batch(http: httpx.Client, batch_id: str, seen: dict[str, float] | None = None, limit: float = 300) -> None:
    """Poll until the batch completes; `seen`: when each image was first seen completed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        body = http.get(f"/v1/images/batch/{batch_id}").json()
        now = time.monotonic()
        for item in body["results"]:
            if seen is not None and item["status"] != "processing":
                seen.setdefault(item["task_id"], now)
        if body["status"] == "completed":
            return
        time.sleep(0.1)
    raise SystemExit(f"batch {batch_id} did not complete within {limit:.0f} s")


def estimates(http: httpx.Client, size: int) -> None:
    accepted = _batch(http, size, "ESTIMATE")
    said = {task_id: (http.get(f"/v1/images/{task_id}").json(), time.monotonic()) for task_id in accepted["task_ids"]}
    overall = http.get(f"/v1/images/batch/{accepted['batch_id']}").json()
    asked = time.monotonic()
    seen: dict[str, float] = {}
    _wait_batch(http, accepted["batch_id"], seen)
    errors, close = [], 0
    for task_id, (body, when) in said.items():
        real = seen[task_id] - when
        guess = body.get("estimated_time_remaining", 0)
        errors.append((guess - real) / real)
        # The field is whole seconds (rounded up): a wait under a few seconds can't be told to 30 %.
        close += abs(guess - real) <= max(0.30 * real, 1.0)
    within = sum(abs(e) <= 0.30 for e in errors)
    batch_real = max(seen.values()) - asked
    print(f"queue estimates: a batch of {size}, 2 render slots, typeset engine")
    print(f"  batch said {overall['estimated_time_remaining']} s left; it took {batch_real:.1f} s "
          f"({(overall['estimated_time_remaining'] - batch_real) / batch_real:+.0%})")  # fmt: skip
    print(f"  per image: median error {statistics.median(errors):+.0%}, worst {max(errors, key=abs):+.0%}, "
          f"{within} of {len(errors)} within ±30 %, {close} within ±30 % or the field's 1 s (goal: all)")  # fmt: skip


def polling(url: str, http: httpx.Client, tiles: int) -> None:
    from playwright.sync_api import sync_playwright

    accepted = _batch(http, tiles, "POLL")
    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        page = browser.new_page(base_url=url)
        page.goto("/accounts/login")
        if not page.locator("input[name=username]").count():
            raise SystemExit(f"no login form at {page.url}:\n{page.content()[:1500]}")
        page.fill("input[name=username]", "queue")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.auth-form button[type=submit]")
        page.wait_for_url(f"{url}/")
        requests: list[float] = []
        page.on("request", lambda r: requests.append(time.monotonic()) if "/tiles" in r.url else None)
        page.reload()
        start = time.monotonic()
        pending = page.locator(".tile.is-pending").count()
        page.wait_for_timeout(4000)
        while_pending = sum(t >= start for t in requests) / (time.monotonic() - start)
        _wait_batch(http, accepted["batch_id"])
        page.wait_for_function("!document.querySelector('.tile.is-pending')", timeout=30_000)
        quiet_from = time.monotonic()
        page.wait_for_timeout(3000)
        after = sum(t >= quiet_from for t in requests)
        browser.close()
    print(f"gallery polling: {pending} tiles pending -> {while_pending:.1f} requests/s (goal: at most 1 per second);")
    print(f"  none pending -> {after} requests in 3 s (goal: 0)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--tiles", type=int, default=25)
    args = parser.parse_args()
    var = folder("estimates-")
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
    _manage(env, "collectstatic", "--noinput", "-v", "0")  # as `make run` does: the pages need it
    _manage(env, "createuser", "queue", "--password", PASSWORD, "--tier", "enterprise", "--credits", "100000")
    key = _manage(env, "createapikey", "--user", "queue").splitlines()[-1]
    log_path = var / "studio-run.log"
    studio = subprocess.Popen([sys.executable, "-m", "studio.run"], cwd=ROOT, env=env,
                              stdout=log_path.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, time.monotonic() + 90)
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        # Both render slots serve a dozen first: what the estimates measure (render times, slots) exists.
        _wait_batch(http, _batch(http, 12, "WARM")["batch_id"])
        estimates(http, args.size)
        if Path(CHROMIUM).exists():
            polling(url, http, args.tiles)
        else:
            print(f"gallery polling: skipped ({CHROMIUM} is missing; `make system-deps` installs it)")
    finally:
        studio.send_signal(signal.SIGINT)
        try:
            studio.wait(60)
        except subprocess.TimeoutExpired:
            studio.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
