"""`python -m studio.run`: web, workers and sweeper together; one Ctrl-C stops them all.

This is what `make run` starts. On many machines, run the parts separately instead
(see the README): gunicorn for web, `celery worker` per queue, one `celery beat`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

HOST = os.environ.get("STUDIO_HOST", "127.0.0.1")
PORT = os.environ.get("STUDIO_PORT", "8000")


def commands() -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [
            python, "-m", "gunicorn", "studio.wsgi:application",
            "--bind", f"{HOST}:{PORT}",
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--threads", "4",
            "--access-logfile", "-",
        ],
        "worker": [
            python, "-m", "celery", "-A", "studio", "worker", "--hostname", "render@%h",
            "--queues", "render",
            "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"),
            "--loglevel", "INFO",
        ],
        # Webhook deliveries and exports wait on the network and the disk, not the CPU: their
        # own worker (threads) means a slow receiver never holds up a render.
        "notifier": [
            python, "-m", "celery", "-A", "studio", "worker", "--hostname", "notify@%h",
            "--queues", "webhooks,default", "--pool", "threads", "--concurrency", "4",
            "--loglevel", "INFO",
        ],
        "sweeper": [python, "-m", "celery", "-A", "studio", "beat", "--loglevel", "INFO"],
    }  # fmt: skip


def main() -> int:
    procs = {name: subprocess.Popen(cmd) for name, cmd in commands().items()}
    print(f"Studio: http://{HOST}:{PORT}/  (web, render and webhook workers, sweeper; Ctrl-C stops all)", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the others.", flush=True)
                code = proc.returncode or 1
                stopping = True
        time.sleep(0.2)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
