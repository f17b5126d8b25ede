"""`python -m studio.run`: web, render slots, notifier and sweeper, supervised; Ctrl-C stops all.

This is what `make run` starts. Each render slot is its own `celery worker --pool solo`
process: a slot killed mid-render (OOM, `kill -9`) takes nothing down with it, since
there is no shared pool lock for a dead child to hold (a prefork pool's children wait
forever on the semaphore a SIGKILLed sibling held). A child that exits is restarted with
back-off (1 s, 2 s, 4 s … at most 30 s, back to 1 s once it has run a minute), with a
log line; only SIGINT or SIGTERM stops everything.

On many machines, run the parts separately instead (see the README and the Procfile):
gunicorn for web, one solo `celery worker` per render slot, a notifier, one `celery beat`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = os.environ.get("STUDIO_HOST", "127.0.0.1")
PORT = os.environ.get("STUDIO_PORT", "8000")
# gunicorn's threads per web process. Each open event stream (GET /v1/…/events) holds one, and
# the settings read the same variable to keep two of them free for other requests.
WEB_THREADS = "8"
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0


def render_slots() -> int:
    return max(1, int(os.environ.get("WORKER_CONCURRENCY", "2")))


def commands() -> dict[str, list[str]]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "studio"]
    procs = {
        "web": [
            python, "-m", "gunicorn", "studio.wsgi:application",
            "--bind", f"{HOST}:{PORT}",
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--threads", os.environ.get("WEB_THREADS", WEB_THREADS),
            "--access-logfile", "-",
        ],
    }  # fmt: skip
    for slot in range(1, render_slots() + 1):
        procs[f"render-{slot}"] = [
            *celery, "worker", "--hostname", f"render-{slot}@%h", "--queues", "render", "--pool", "solo",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]  # fmt: skip
    # Webhook deliveries and exports wait on the network and the disk, not the CPU: their
    # own worker (threads) means a slow receiver never holds up a render.
    procs["notifier"] = [
        *celery, "worker", "--hostname", "notify@%h", "--queues", "webhooks,default", "--pool", "threads",
        "--concurrency", "4", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
    ]  # fmt: skip
    procs["sweeper"] = [*celery, "beat", "--loglevel", "INFO"]
    return procs


def say(line: str) -> None:
    print(f"studio.run: {line}", flush=True)


@dataclass
class Child:
    """One supervised process, restarted with back-off whenever it exits."""

    name: str
    command: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    backoff: float = BACKOFF_FIRST
    restarts: int = 0

    def start(self, now: float) -> None:
        self.proc = subprocess.Popen(self.command)
        self.started_at = now
        self.restart_at = 0.0

    def check(self, now: float) -> None:
        """Restart the child if it exited and its back-off has passed."""
        if self.proc is not None and self.proc.poll() is None:
            if now - self.started_at >= HEALTHY_AFTER:
                self.backoff = BACKOFF_FIRST
            return
        if self.proc is not None:
            code = self.proc.returncode
            self.proc = None
            self.restart_at = now + self.backoff
            say(f"{self.name} exited with {code}; restarting in {self.backoff:.0f} s")
            self.backoff = min(BACKOFF_MAX, self.backoff * 2)
        if now >= self.restart_at:
            self.restarts += 1
            self.start(now)
            say(f"{self.name} restarted (restart {self.restarts})")


@dataclass
class Supervisor:
    children: list[Child]
    clock: Callable[[], float] = time.monotonic
    stopping: bool = field(default=False, init=False)

    def stop(self, *_: object) -> None:
        self.stopping = True

    def run(self, *, poll: float = 0.2) -> int:
        for child in self.children:
            child.start(self.clock())
        while not self.stopping:
            for child in self.children:
                child.check(self.clock())
            time.sleep(poll)
        return self.shutdown()

    def shutdown(self, *, grace: float = 15.0) -> int:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        return 0


def main() -> int:
    os.environ.setdefault("WEB_THREADS", WEB_THREADS)  # the web children's settings see what gunicorn was given
    supervisor = Supervisor([Child(name, command) for name, command in commands().items()])
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGTERM, supervisor.stop)
    print(
        f"Studio: http://{HOST}:{PORT}/  (web, {render_slots()} render slots, webhook worker, sweeper; "
        "Ctrl-C stops all)",
        flush=True,
    )
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
