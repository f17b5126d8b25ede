"""Chaos benchmark: SIGKILL a render worker at a random moment of a batch; no image may be lost.

Per broker (embedded; Redis too when `redis-server` is on PATH), on SQLite in a temporary folder,
it starts `studio.run`'s processes less the web server: two solo render slots, the notifier,
`celery beat`; a killed slot is restarted after `studio.run`'s first back-off (1 s). Each round
submits a batch for a fresh account, SIGKILLs a random render slot once the batch is a random part
done (0-100 %, so busy or idle, as it happens), waits for the batch and counts images lost (not
completed), double charges (over one charge entry) and ledger errors (a completed image refunded,
a failed one not; a balance off its ledger's sum or the completed images' price). Recovery:
seconds from the SIGKILL to the batch's `finished_at`, its remaining renders included. Loopback only.

Run: .venv/bin/python bench/chaos.py [--rounds 20] [--batch 6] [--seed N]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import folder as scratch_folder  # noqa: E402
from studio.run import BACKOFF_FIRST, commands  # noqa: E402

if TYPE_CHECKING:
    from accounts.models import User
    from generations.models import Batch

# A render takes a few seconds (ten steps of 0.3 s, then encoding), so kills land mid-render.
MODELS = {"seedream-5.0-lite": {"engine": "typeset", "options": {"step_delay": 0.3}}}
# Where to connect comes from this script alone: whatever the caller's shell points at is dropped.
ELSEWHERE = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "MEDIA_ROOT", "STUDIO_STORAGE",
             "STUDIO_SQLITE_PATH", "STUDIO_BROKER_DIR", "STUDIO_CACHE_PATH", "STUDIO_MODELS_JSON",
             "DJANGO_SETTINGS_MODULE")  # fmt: skip


@dataclass
class Round:
    killed: str
    kill_at: float
    done_at_kill: float | None  # the batch's progress when killed; None: it had finished
    completed: int
    lost: int
    double_charges: int
    ledger_errors: int
    taken_over: int
    recovery: float | None

    def bad(self) -> bool:
        return bool(self.lost or self.double_charges or self.ledger_errors)


@dataclass
class Summary:
    broker: str
    rounds: list[Round] = field(default_factory=list)
    unexpected_exits: int = 0
    error: str = ""

    def failed(self) -> bool:
        return bool(self.error) or any(r.bad() for r in self.rounds)


_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In a child, before exec: have it SIGKILLed when this benchmark dies, however it dies (Linux)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)  # fmt: skip


def _stop(procs: list[subprocess.Popen[bytes]], grace: float = 20.0) -> None:
    """SIGTERM them all, then SIGKILL whichever is still running `grace` seconds later."""
    for proc in procs:
        proc.terminate()  # a no-op once it has exited
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Child:
    """One process of the studio, its output appended to its own log."""

    name: str
    command: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        self.proc = _spawn(self.command, self.log)
        self.starts, self.restart_at = self.starts + 1, None

    def ready(self) -> bool:
        """Running, and (a worker) said "ready." since its latest start."""
        alive = self.proc is not None and self.proc.poll() is None
        said = self.name == "sweeper" or self.log.read_text(errors="replace").count(" ready.") >= self.starts
        return alive and said


class Cluster:
    """Render slots, notifier and sweeper as `studio.run` starts them, restarted after 1 s when they exit."""

    def __init__(self, logs: Path) -> None:
        logs.mkdir(exist_ok=True)
        self.children = [Child(n, c, logs / f"{n}.log") for n, c in commands().items() if n != "web"]
        self.render = [c for c in self.children if c.name.startswith("render-")]
        self.unexpected_exits = 0

    def tick(self) -> None:
        """The supervisor's loop, once: restart whatever exited once its back-off has passed."""
        now = time.monotonic()
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                self.unexpected_exits += 1
                print(f"    ! {child.name} exited by itself with {child.proc.returncode}; see {child.log}")
                child.proc, child.restart_at = None, now + BACKOFF_FIRST
            if child.proc is None and child.restart_at is not None and now >= child.restart_at:
                child.start()

    def kill(self, child: Child) -> None:
        assert child.proc is not None
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait()
        child.proc, child.restart_at = None, time.monotonic() + BACKOFF_FIRST

    def wait_ready(self) -> None:
        if not self.wait(lambda: all(c.ready() for c in self.children), 180):
            raise RuntimeError("the workers were not all ready within 180 s")

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Supervise until `done()` or `timeout` seconds; whether it was done."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            self.tick()
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        _stop([c.proc for c in self.children if c.proc is not None])


def _submit(n: int, size: int) -> tuple[User, Batch, int]:
    """A batch of `size` for a fresh account with credits to spare; the account, the batch, the balance before."""
    from django.db import transaction

    from accounts import ledger
    from accounts import services as account_services
    from generations import services, specs

    prompts = [f"Poster {n}.{i} with text 'NEVER LOST'" for i in range(size)]
    batch_specs = [specs.build_spec({"model": "seedream-5.0-lite", "prompt": p}) for p in prompts]
    user = account_services.create_user(username=f"chaos{time.time_ns()}", password=None, tier="enterprise")
    with transaction.atomic():
        balance = ledger.set_balance(user=user, target=sum(s.price for s in batch_specs) + 13, note="chaos bench")
    batch = services.submit_batch(user=user, specs_=batch_specs).batch
    assert batch is not None
    return user, batch, balance


def _state(batch: Batch) -> tuple[float | None, float]:
    """When the batch finished (None: not yet), and how far it is, 0 to 1, by its images' progress."""
    from generations.models import UNFINISHED, Batch, Generation

    at = Batch.objects.filter(pk=batch.pk).values_list("finished_at", flat=True).get()
    rows = Generation.objects.filter(batch=batch).values_list("stage", "progress")
    return (at.timestamp() if at else None), statistics.fmean(p if s in UNFINISHED else 1.0 for s, p in rows)


def _check(user: User, batch: Batch, balance_before: int) -> tuple[int, int, int, int, str]:
    """Completed, double charges, ledger errors, renders taken over, and the stages, of a batch as it stands."""
    from accounts import ledger
    from accounts.models import LedgerEntry
    from generations.models import Generation, Stage

    gens = list(Generation.objects.filter(batch=batch))
    entries = Counter(LedgerEntry.objects.filter(generation__batch=batch).values_list("generation_public_id", "kind"))
    ended = [g for g in gens if g.stage in (Stage.FAILED, Stage.CANCELED)]  # these must have been refunded
    double = sum(1 for g in gens if entries[(g.public_id, "charge")] > 1)
    errors = sum(1 for g in gens if not entries[(g.public_id, "charge")])
    errors += sum(1 for g in gens if entries[(g.public_id, "refund")] != (g in ended))
    balance = ledger.balance(user)
    owed = sum(g.credits_charged for g in gens if g not in ended)
    errors += balance != ledger.ledger_total(user) or balance != balance_before - owed
    stages = ", ".join(f"{n} {stage}" for stage, n in sorted(Counter(g.stage for g in gens).items()))
    completed = sum(1 for g in gens if g.stage == Stage.COMPLETED)
    return completed, double, errors, sum(max(0, g.attempts - 1) for g in gens), stages


def _batch_seconds(cluster: Cluster, size: int, deadline: float) -> float:
    """Seconds a batch takes from submit to finished with nothing killed."""
    start = time.time()
    user, batch, balance = _submit(0, size)
    if not cluster.wait(lambda: _state(batch)[0] is not None, deadline):
        raise RuntimeError(f"a batch with no kill is not done in {deadline:.0f} s: {_check(user, batch, balance)[-1]}")
    return (_state(batch)[0] or 0.0) - start


def _one_round(n: int, cluster: Cluster, rng: random.Random, size: int, deadline: float) -> Round:
    """Kill a random render slot once the batch is a random part done (by progress: whatever the machine's speed)."""
    cluster.wait_ready()
    submitted = time.time()
    user, batch, balance_before = _submit(n, size)
    target = rng.uniform(0.0, 1.0)
    cluster.wait(lambda: _state(batch)[1] >= target, deadline)
    victim = rng.choice(cluster.render)
    (finished, progress), killed = _state(batch), time.time()
    cluster.kill(victim)
    done = cluster.wait(lambda: _state(batch)[0] is not None, deadline)
    completed, double, errors, taken_over, stages = _check(user, batch, balance_before)
    if not done:
        print(f"    ! batch {batch.public_id} not finished {deadline:.0f} s after the kill: {stages}")
    end, at_kill = _state(batch)[0], None if finished else progress
    recovery = end - killed if end is not None and at_kill is not None else None
    return Round(victim.name, killed - submitted, at_kill, completed, size - completed, double, errors, taken_over,
                 recovery)  # fmt: skip


def run_broker(args: argparse.Namespace) -> Summary:
    """One broker's rounds, in this process (started by `main` with that broker's environment)."""
    import django

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "no hostname" for filesystem://
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    summary, cluster = Summary(args.broker), Cluster(Path(settings.VAR_DIR) / "logs")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # cleans up as on Ctrl-C
    try:
        for child in cluster.children:
            child.start()
        cluster.wait_ready()
        baseline = [_batch_seconds(cluster, args.batch, args.deadline) for _ in range(2)][-1]  # the first warms up
        print(f"[{args.broker}] {settings.CELERY_BROKER_URL.split('//')[0]}// broker, SQLite in {settings.VAR_DIR}; "
              f"{len(cluster.render)} render slots; sweep every {settings.STUDIO_SWEEP_INTERVAL_SECONDS:g} s, stale after {settings.STUDIO_RENDER_STALE_SECONDS:g} s, "
              f"lost queued work re-sent after {settings.STUDIO_LOST_MESSAGE_SECONDS:g} s (empty queue) or {settings.STUDIO_REQUEUE_AFTER_SECONDS} s; "
              f"a batch with no kill takes {baseline:.1f} s")  # fmt: skip
        for n in range(1, args.rounds + 1):
            r = _one_round(n, cluster, random.Random(f"{args.seed}-{args.broker}-{n}"), args.batch, args.deadline)
            summary.rounds.append(r)
            recovered = f"{r.recovery:5.1f} s" if r.recovery is not None else "-"
            print(f"  round {n:2}/{args.rounds}  SIGKILL {r.killed} at {r.kill_at:4.1f} s"
                  f"{' (batch finished)' if r.done_at_kill is None else f', batch {r.done_at_kill:4.0%} done'}"
                  f"  {r.completed}/{args.batch} completed  renders redone {r.taken_over}"
                  f"  double charges {r.double_charges}  ledger errors {r.ledger_errors}"
                  f"  kill->finished {recovered}")  # fmt: skip
    except (Exception, KeyboardInterrupt) as exc:
        summary.error = f"{type(exc).__name__}: {exc}"
        print(f"[{args.broker}] stopped: {summary.error}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
        summary.unexpected_exits = cluster.unexpected_exits
    return summary


def _start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A throwaway redis-server on a free loopback port, keeping nothing on disk."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = _spawn(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                   "--dir", str(folder), "--protected-mode", "yes"], folder / "redis.log")  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return proc, port
        time.sleep(0.1)
    _stop([proc])
    raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port}; see {folder / 'redis.log'}")


def _run_child(broker: str, args: argparse.Namespace) -> Summary:
    """Run one broker's rounds in a child process with its own folder (and Redis); its summary."""
    folder = scratch_folder(f"chaos-{broker}-")
    env = {k: v for k, v in os.environ.items() if k not in ELSEWHERE}
    env.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_VAR_DIR=str(folder), WORKER_CONCURRENCY="2",
               STUDIO_MODELS_JSON=json.dumps(MODELS), PYTHONUNBUFFERED="1")  # fmt: skip
    redis: subprocess.Popen[bytes] | None = None
    child: subprocess.Popen[bytes] | None = None
    summary = Summary(broker, error="did not report")
    try:
        if broker == "redis":
            redis, port = _start_redis(folder)
            env.update(CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0", CACHE_URL=f"redis://127.0.0.1:{port}/1")
        out = folder / "summary.json"
        command = [sys.executable, __file__, *sys.argv[1:], "--seed", str(args.seed), "--broker", broker,
                   "--summary", str(out)]  # fmt: skip
        child = subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=_die_with_parent)
        child.wait()
        if out.exists():
            data = json.loads(out.read_text())
            summary = Summary(broker, [Round(**r) for r in data["rounds"]], data["unexpected_exits"], data["error"])
        elif child.returncode:
            summary.error = f"exited with {child.returncode}"
    except Exception as exc:
        summary.error = f"{type(exc).__name__}: {exc}"
    finally:
        for proc in (child, redis):  # the workers first: they talk to Redis until they stop
            _stop([proc] if proc else [], grace=60)
        if args.keep or summary.failed() or summary.unexpected_exits:
            print(f"[{broker}] logs kept in {folder}/logs")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return summary


def _table(summaries: list[Summary], skipped: str) -> None:
    heads = ("rounds", "survived", "mid-render kills", "images lost", "double charges", "ledger errors",
             "recovery median", "max")  # fmt: skip
    print(f"\n{'broker':<9}" + "".join(f"{h:>{max(len(h), 7) + 2}}" for h in heads))
    for s in summaries:
        rs, times = s.rounds, [r.recovery for r in s.rounds if r.recovery is not None]
        cells = (len(rs), sum(not r.bad() for r in rs), sum(r.taken_over > 0 for r in rs), sum(r.lost for r in rs),
                 sum(r.double_charges for r in rs), sum(r.ledger_errors for r in rs),
                 f"{statistics.median(times):.1f} s" if times else "-",
                 f"{max(times):.1f} s" if times else "-")  # fmt: skip
        print(f"{s.broker:<9}" + "".join(f"{c:>{max(len(h), 7) + 2}}" for h, c in zip(heads, cells, strict=True)))
        if s.unexpected_exits:
            print(f"  {s.broker}: {s.unexpected_exits} process(es) exited without being killed (see the logs)")
        if s.error:
            print(f"  {s.broker}: stopped early: {s.error}")
    if skipped:
        print(f"redis    skipped: {skipped}")
    print("recovery = seconds from the SIGKILL to the batch's finished_at, the batch's remaining renders included")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=6, help="images per batch (default 6)")
    parser.add_argument("--seed", type=int, default=None, help="for the kill moments and victims (default random)")
    parser.add_argument("--deadline", type=float, default=330.0,
                        help="seconds a round waits after the kill (the batch's 5-minute deadline + 30 s)")  # fmt: skip
    parser.add_argument("--broker", choices=["embedded", "redis"], help="only this broker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders and logs")
    parser.add_argument("--summary", help=argparse.SUPPRESS)  # the child process's report
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(10**6)
    if args.summary:
        summary = run_broker(args)
        Path(args.summary).write_text(json.dumps(asdict(summary)))
        return 0
    print(f"chaos: {args.rounds} rounds of SIGKILL per broker, batches of {args.batch}, seed {args.seed}", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):  # cleans up as on Ctrl-C, even where a shell ignores SIGINT
        signal.signal(sig, signal.default_int_handler)
    skipped = "" if args.broker == "embedded" or shutil.which("redis-server") else "redis-server is not on PATH"
    brokers = [b for b in ([args.broker] if args.broker else ["embedded", "redis"]) if not (b == "redis" and skipped)]
    if skipped:
        print(f"chaos: Redis skipped ({skipped})", flush=True)
    try:
        summaries = [_run_child(broker, args) for broker in brokers]
    except KeyboardInterrupt:
        print("chaos: interrupted; every process it started is stopped")
        return 130
    _table(summaries, skipped)
    return 1 if any(s.failed() for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
