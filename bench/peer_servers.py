"""The servers of the peer benchmark: cog's prediction server and Studio's processes.

Every server runs in a process group of its own (a new session), with its output in a log
file, and dies with the benchmark if the benchmark is killed outright (Linux
`PR_SET_PDEATHSIG`). `stop` signals the group's leader first, so it can shut its own
children down, then sweeps the whole group and reaps the leader: nothing is left running
and nothing is left a zombie. Every wait has a deadline; a server that does not come up
fails with the end of its log.

cog runs as `run_cog_peer.sh` in the peer harness runs it (README gotchas 1, 2 and 5): from
a venv of its own (never Studio's), started from inside the predictor folder with
`COG_PREDICT_TYPE_STUB`, the venv's `bin` first on PATH (coglet starts its worker as plain
`python`), its own TMPDIR, and `/tmp/coglet` removed afterwards unless it was there before.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COG_SPEC = os.environ.get("COG_SPEC", "cog>=0.23,<0.24")
COGLET_DIR = Path("/tmp/coglet")
_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


class StartFailed(SystemExit):
    """A server did not come up; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def _die_with_parent() -> None:
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Server:
    """One command in its own process group, its output appended to `log`."""

    def __init__(self, name: str, command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.cwd, self.env, self.log = name, command, cwd, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_die_with_parent)  # fmt: skip
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def fail(self, why: str) -> StartFailed:
        return StartFailed(f"{self.name}: {why}; end of its log {self.log}:\n{tail(self.log)}")

    def describe(self) -> str:
        state = "running" if self.alive() else f"exited with {self.proc.returncode if self.proc else '?'}"
        return f"--- {self.name} ({state}), end of {self.log}:\n{tail(self.log, 12)}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the processes of its group that are alive now."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if self.proc is not None and int(fields[2]) == self.proc.pid:  # field 5, pgrp
                    total += int(fields[11]) + int(fields[12])  # fields 14 and 15, utime and stime
        return total / os.sysconf("SC_CLK_TCK")

    def signal_leader(self, sig: int) -> None:
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)

    def sweep(self, grace: float) -> None:
        """Wait up to `grace` s for the leader, then SIGTERM and SIGKILL its group; reap it."""
        if self.proc is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(max(0.1, grace))
        for sig, pause in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(self.proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                break  # the group is gone
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)
            time.sleep(pause)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


def stop(servers: list[Server], grace: float = 15.0) -> None:
    """SIGTERM every leader at once, then sweep each group."""
    for server in servers:
        server.signal_leader(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for server in servers:
        server.sweep(deadline - time.monotonic())


def get_json(port: int, path: str, timeout: float = 2.0) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, {}
    finally:
        conn.close()


def wait_until(servers: list[Server], ready: Callable[[], bool], *, seconds: float, what: str) -> float:
    """Poll `ready` until true; fail if it is not within `seconds` or a server exits. Seconds taken."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for server in servers:
            if not server.alive():
                raise server.fail(f"exited with {server.proc.returncode if server.proc else '?'} before {what}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if ready():
                return time.monotonic() - started
        time.sleep(0.1)
    logs = "\n".join(server.describe() for server in servers)
    raise StartFailed(f"{servers[0].name}: not {what} within {seconds:.0f} s\n{logs}")


# --- cog --------------------------------------------------------------------------------------


def ensure_cog_venv(venv: Path) -> None:
    """A venv with cog (and so coglet) and Pillow, made if missing or broken; never Studio's."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import cog, coglet, PIL"]
    if python.exists() and subprocess.run(check, capture_output=True, timeout=120).returncode == 0:
        return
    print(f"# creating the cog venv {venv} ({COG_SPEC}, pillow)", flush=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    for command in (
        [base, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "-q", COG_SPEC, "pillow"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode:
            raise SystemExit(
                f"could not make the cog venv ({' '.join(command)}):\n{(done.stdout + done.stderr)[-2000:]}"
            )
    subprocess.run(check, check=True, timeout=120)


class Cog:
    """cog's prediction server on 127.0.0.1:`port`, serving the predictor folder `predictor`."""

    def __init__(self, *, venv: Path, predictor: Path, run_dir: Path) -> None:
        self.port = free_port()
        self.tmp = run_dir / "cog-tmp"
        self.tmp.mkdir(parents=True)
        self.coglet_existed = COGLET_DIR.exists()
        bin_dir = venv / "bin"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv), PORT=str(self.port),
                   COG_PREDICT_TYPE_STUB="predict.py:Predictor", TMPDIR=str(self.tmp))  # fmt: skip
        command = [str(bin_dir / "python"), "-m", "cog.server.http", "--host", "127.0.0.1"]
        self.server = Server("cog", command, cwd=predictor, env=env, log=run_dir / "cog.log")
        self.health: dict = {}

    def start(self) -> float:
        """Start it and wait for READY; seconds it took."""
        self.server.start()

        def ready() -> bool:
            _, self.health = get_json(self.port, "/health-check")
            if self.health.get("status") in ("SETUP_FAILED", "DEFUNCT"):
                raise self.server.fail(f"reports {self.health['status']}")
            return self.health.get("status") == "READY"

        return wait_until([self.server], ready, seconds=120, what="READY")

    def stop(self) -> None:
        stop([self.server], grace=10)
        shutil.rmtree(self.tmp, ignore_errors=True)  # the PNGs it returned: cog does not delete them
        if not self.coglet_existed:  # an empty folder per prediction, under /tmp whatever TMPDIR says
            shutil.rmtree(COGLET_DIR, ignore_errors=True)


# --- Studio -----------------------------------------------------------------------------------


def studio_commands(port: int, render_workers: int) -> dict[str, list[str]]:
    """What `python -m studio.run` starts (web, one solo worker per render slot, the notifier), minus beat."""
    celery = [sys.executable, "-m", "celery", "-A", "studio", "worker", "--without-gossip", "--without-mingle",
              "--loglevel", "INFO"]  # fmt: skip
    commands = {
        "web": [sys.executable, "-m", "gunicorn", "studio.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--threads", "4", "--graceful-timeout", "5", "--log-level", "warning"],
    }  # fmt: skip
    for slot in range(1, render_workers + 1):
        commands[f"render-{slot}"] = [
            *celery,
            "--hostname",
            f"render-{slot}@%h",
            "--queues",
            "render",
            "--pool",
            "solo",
        ]
    commands["notifier"] = [*celery, "--hostname", "notify@%h", "--queues", "webhooks,default", "--pool", "threads",
                            "--concurrency", "4"]  # fmt: skip
    return commands


class Studio:
    """gunicorn plus the Celery workers, over the var folder that `env` names."""

    def __init__(self, *, env: dict[str, str], logs: Path, render_workers: int = 2) -> None:
        self.port = free_port()
        self.servers = [
            Server(name, command, cwd=ROOT, env=env, log=logs / f"studio-{name}.log")
            for name, command in studio_commands(self.port, render_workers).items()
        ]

    def start(self) -> float:
        """Start every process; wait for /healthz 200 and each worker's "ready."; seconds it took."""
        for server in self.servers:
            server.start()
        workers = [s for s in self.servers if s.name != "web"]

        def ready() -> bool:
            said = all(" ready." in s.log.read_text(errors="replace") for s in workers)
            return said and get_json(self.port, "/healthz")[0] == 200

        return wait_until(self.servers, ready, seconds=90, what="ready (/healthz 200, every worker ready.)")

    def stop(self) -> None:
        stop(self.servers, grace=15)
