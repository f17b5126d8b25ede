"""What `make run` does when a render slot is SIGKILLed, and when the broker refuses a message.

`python -m studio.run` for real (gunicorn, two solo render slots, the notifier, beat) on the
test database and broker folder, with Studio's default heartbeat, stale and sweep
settings: a slot killed while it renders or while it is idle is restarted by the
supervisor, every image of the batch completes, each is charged exactly once, and the
batch ends within a loose deadline of the kill (the goal is 15 s; the figures are in
`bench/chaos.py`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from accounts import ledger
from accounts import services as account_services
from accounts.models import LedgerEntry
from generations import services
from generations.models import Batch, Generation
from tests.backends import free_port
from tests.conftest import ROOT, wait_for
from tests.helpers import broker_refusing_messages, spec

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLOW = json.dumps({"seedream-5.0-lite": {"engine": "fake", "options": {"step_delay": 0.4}}})
AFTER_KILL_DEADLINE = 45.0  # loose: the goal is 15 s, on a 2-core machine running other tests


def _children(pid: int) -> dict[int, str]:
    """The live child processes of `pid`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == pid:
            found[int(entry.name)] = cmdline
    return found


@dataclass
class Studio:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def slot_pid(self, slot: str) -> int | None:
        return next((pid for pid, cmd in _children(self.proc.pid).items() if f"{slot}@" in cmd), None)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self) -> str:
        return self.log()[-6000:]


@pytest.fixture
def studio_run(worker_env, tmp_path) -> Iterator[Callable[[], Studio]]:
    started: list[Studio] = []

    def start() -> Studio:
        env = {
            **worker_env,
            "STUDIO_PORT": str(free_port()),
            "WEB_CONCURRENCY": "1",
            "WORKER_CONCURRENCY": "2",
            "STUDIO_MODELS_JSON": SLOW,
            "STUDIO_PROGRESS_MIN_INTERVAL": "0",
        }
        log_path = tmp_path / "studio-run.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "studio.run"], cwd=ROOT, env=env,
            stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        studio = Studio(proc, log_path)
        started.append(studio)
        return studio

    yield start
    for studio in started:
        studio.proc.send_signal(signal.SIGTERM)
        try:
            studio.proc.wait(30)
        except subprocess.TimeoutExpired:
            studio.proc.kill()
            studio.proc.wait(10)


def _batch(user, n: int) -> Batch:
    submitted = services.submit_batch(user=user, specs_=[spec(prompt=f"Recovery {i}") for i in range(n)])
    assert submitted.batch is not None
    return submitted.batch


def _assert_all_completed_and_charged_once(batch: Batch, user) -> None:
    generations = list(Generation.objects.filter(batch=batch))
    assert [g.status for g in generations] == ["completed"] * len(generations), [g.error_message for g in generations]
    charges = LedgerEntry.objects.filter(generation_public_id__in=[g.public_id for g in generations], kind="charge")
    per_image = charges.values("generation_public_id").annotate(n=Count("id"))
    assert sorted(row["n"] for row in per_image) == [1] * len(generations)
    assert not LedgerEntry.objects.filter(generation_public_id__in=[g.public_id for g in generations], kind="refund")
    assert ledger.balance(user) == ledger.ledger_total(user)


def _finished(batch: Batch) -> bool:
    return Batch.objects.filter(pk=batch.pk, finished_at__isnull=False).exists()


def test_a_render_slot_sigkilled_mid_render_is_restarted_and_the_batch_completes(make_user, studio_run):
    user = make_user(tier="pro", credits=1000)
    studio = studio_run()
    wait_for(lambda: studio.slot_pid("render-1") and studio.slot_pid("render-2"), timeout=60, message="two slots")
    batch = _batch(user, 6)
    wait_for(
        lambda: Generation.objects.filter(batch=batch, stage="rendering", progress__gt=0).count() == 2,
        timeout=90,
        message=f"both slots rendering; log:\n{studio.tail()}",
    )
    victim = studio.slot_pid("render-1")
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()

    wait_for(lambda: _finished(batch), timeout=AFTER_KILL_DEADLINE, message=f"the batch; log:\n{studio.tail()}")
    print(f"batch finished {time.monotonic() - killed_at:.1f} s after the kill")
    _assert_all_completed_and_charged_once(batch, user)
    assert Generation.objects.filter(batch=batch, attempts=2).count() == 1  # the one the dead slot held
    wait_for(lambda: "render-1 restarted" in studio.log(), timeout=30, message="the supervisor's restart")
    assert studio.proc.poll() is None  # nothing else stopped


def test_an_idle_render_slot_sigkilled_is_restarted_and_later_work_completes(make_user, studio_run):
    user = make_user(tier="pro", credits=1000)
    studio = studio_run()
    wait_for(lambda: studio.slot_pid("render-1") and studio.slot_pid("render-2"), timeout=60, message="two slots")
    wait_for(lambda: "render-1@" in studio.log() and "ready" in studio.log(), timeout=60, message="workers ready")
    victim = studio.slot_pid("render-1")
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: studio.slot_pid("render-1") not in (None, victim), timeout=30, message="a new render-1")

    batch = _batch(user, 4)
    wait_for(lambda: _finished(batch), timeout=90, message=f"the batch; log:\n{studio.tail()}")
    _assert_all_completed_and_charged_once(batch, user)
    assert studio.proc.poll() is None


def test_an_enqueue_the_broker_refuses_is_accepted_and_completes_once_the_broker_is_back(
    make_user, start_worker, client
):
    """Accepted means durable: the row is the outbox, and the sweeper sends what the broker refused."""
    user = make_user(credits=50)
    _, key = account_services.create_api_key(user=user, name="outbox")
    with broker_refusing_messages():
        response = client.post(
            "/v1/images/generate",
            {"model": "seedream-5.0-lite", "prompt": "Accepted while the broker was down"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert response.status_code == 200, response.content
    task_id = response.json()["task_id"]
    assert ledger.balance(user) == 43 == ledger.ledger_total(user)  # charged once, for an accepted task
    refused = Generation.objects.get(public_id=task_id)
    assert refused.stage == "queued"  # and marked for the sweeper's next pass: the message never left
    assert refused.enqueued_at < timezone.now() - timedelta(seconds=settings.STUDIO_REQUEUE_AFTER_SECONDS)

    worker = start_worker(WITH_BEAT="1")
    wait_for(
        lambda: Generation.objects.get(public_id=task_id).is_finished,
        timeout=90,
        message=f"the sweeper to send it; log:\n{worker.log()}",
    )
    assert Generation.objects.get(public_id=task_id).status == "completed"
    assert ledger.balance(user) == 43 == ledger.ledger_total(user)
