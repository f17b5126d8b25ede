"""The peer benchmark's measuring side: stdlib HTTP clients, a webhook receiver, a load runner, the report.

Only the standard library, as in the peer harness's `bench_cog.py` (the clients share the
machine's cores with the server they measure, so they must be light): one keep-alive
`http.client` connection per client thread, a `ThreadingHTTPServer` on 127.0.0.1 that
records when each terminal webhook arrives, and medians in milliseconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENTS = 8
WARMUP = 3
TIMEOUT = 60.0
BUSY_BACKOFF = 0.020  # after a refusal under load, as the peer harness's bench_cog.py backs off after a 409
TERMINAL = {"succeeded", "completed", "failed", "canceled"}  # cog's and Studio's final statuses


class Failed(SystemExit):
    pass


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def p90(xs: list[float]) -> float:
    return sorted(xs)[max(0, -(-9 * len(xs) // 10) - 1)] if xs else float("nan")


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """Milliseconds of `n` calls of `fn`, after WARMUP untimed ones."""
    for _ in range(WARMUP):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


@dataclass
class Runs:
    """Sequential runs: latency (ms), time to the submit's answer (ms), and for Studio task ids and wall clocks."""

    lat: list[float] = field(default_factory=list)
    accept: list[float] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    refused: int = 0  # cog: sequential submits refused with 409, re-sent, not timed


@dataclass
class Load:
    ok: int = 0
    refused: int = 0
    error: int = 0
    requests: int = 0  # every HTTP request answered: cog's refused ones too, Studio's submits and polls
    rate: float = 0.0
    lat: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Side:
    """One server's figures; `render_ms`: the bare render's median, sampled between its sequential requests."""

    render_ms: float = float("nan")
    seq: Runs = field(default_factory=Runs)
    hook: Runs = field(default_factory=Runs)
    load: Load = field(default_factory=Load)


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:`port` (one per thread), reconnecting once."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port, self.headers = port, {"Content-Type": "application/json", **(headers or {})}
        self.conn: http.client.HTTPConnection | None = None
        self.sent = 0  # requests answered

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):  # the server may have closed an idle connection
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                self.conn.request(method, path, body=data, headers={**self.headers, **(headers or {})})
                response = self.conn.getresponse()
                self.sent += 1
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Receiver:
    """Webhook receiver on 127.0.0.1 (ephemeral port): arrival time of each terminal event, by id."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.done: dict[str, tuple[float, str]] = {}  # task/prediction id -> (perf_counter, status)
        self.events = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.perf_counter()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                try:
                    d = json.loads(body)
                except ValueError:
                    return
                key = str(d.get("task_id") or d.get("id"))  # Studio's payload, cog's prediction
                with outer.cond:
                    outer.events += 1
                    if d.get("status") in TERMINAL and key not in outer.done:
                        outer.done[key] = (arrived, str(d.get("status")))
                        outer.cond.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, key: str) -> tuple[float, str]:
        with self.cond:
            if not self.cond.wait_for(lambda: key in self.done, TIMEOUT):
                raise Failed(f"no terminal webhook for {key} within {TIMEOUT:.0f} s")
            return self.done[key]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def throughput(port: int, seconds: float, one: Callable[[Client], str], headers: dict | None = None) -> Load:
    """CLIENTS threads, each calling `one(client)` ("ok", "refused", or why it failed) until the deadline."""
    load, lock = Load(), threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        c = Client(port, headers)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                outcome = one(c)
            except (OSError, http.client.HTTPException, ValueError, Failed) as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                if outcome == "ok":
                    load.ok += 1
                    load.lat.append((time.perf_counter() - t0) * 1000)
                elif outcome == "refused":
                    load.refused += 1
                else:
                    load.error += 1
                    load.errors.append(outcome)
            if outcome not in ("ok", "refused"):
                time.sleep(0.05)
        c.close()
        with lock:
            load.requests += c.sent

    start = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 2 * TIMEOUT)
    load.rate = load.ok / (time.perf_counter() - start)  # requests in flight at the deadline count, as in bench_cog.py
    return load


def report(cog: Side, studio: Side, *, duration: float, args: argparse.Namespace, took: float) -> None:
    def row(name: str, fn: Callable[[Side], float], digits: int = 2) -> None:
        print(f"  {name:58} {fn(cog):10.{digits}f} {fn(studio):10.{digits}f}")

    print(f"\none server at a time on this machine; Studio polls every {args.poll_ms:g} ms (sequential) and "
          f"{args.load_poll_ms:g} ms (under load); cog backs off {BUSY_BACKOFF * 1000:g} ms after a 409; {took:.0f} s in all; "
          f"load average now {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  {'figure':58} {'cog':>10} {'studio':>10}")
    row("bare render: render() + PNG, in this process (ms)", lambda s: s.render_ms)
    row("sequential latency median: cog sync | Studio poll (ms)", lambda s: median(s.seq.lat))
    row("  p90 (ms)", lambda s: p90(s.seq.lat))
    row("  overhead: median - bare render (ms)", lambda s: median(s.seq.lat) - s.render_ms)
    row("submit answered, median: cog 202 | Studio 200 (ms)", lambda s: median(s.hook.accept))
    row("submit -> completed webhook, median (ms)", lambda s: median(s.hook.lat))
    row("  p90 (ms)", lambda s: p90(s.hook.lat))
    row("  overhead: median - bare render (ms)", lambda s: median(s.hook.lat) - s.render_ms)
    row(f"renders/s, {CLIENTS} clients, {duration:g} s", lambda s: s.load.rate)
    row("  completed renders", lambda s: s.load.ok, 0)
    row("  latency under load, median (ms)", lambda s: median(s.load.lat))
    row("  refused: cog 409 | Studio submit not 200", lambda s: s.load.refused, 0)
    row("  errors", lambda s: s.load.error, 0)
    cog_over, studio_over = (median(s.hook.lat) - s.render_ms for s in (cog, studio))
    r = studio_over / max(cog_over, 0.01)
    t = studio.load.rate / cog.load.rate if cog.load.rate else float("nan")
    accepted = studio.load.refused == studio.load.error == 0
    print("goals (issue):")
    print(
        f"  Studio's overhead <= cog's (webhook: {studio_over:.1f} vs {cog_over:.1f} ms): {'yes' if r <= 1 else 'NO'}"
    )
    print(f"  every Studio request accepted ({studio.load.refused} refused, {studio.load.error} errors): "
          f"{'yes' if accepted else 'NO'}")  # fmt: skip
    print(f"  Studio >= 1.8x cog's renders/s with 2 render workers ({t:.2f}x): {'yes' if t >= 1.8 else 'NO'}")
    print(f"R = Studio's submit -> completed-webhook overhead ({studio_over:.2f} ms) / cog's async submit -> "
          f"completed-webhook overhead ({cog_over:.2f} ms), each a median minus its bare render median")  # fmt: skip
    print(f"peer: overhead ratio {r:.2f} (studio/cog, lower is better), throughput ratio {t:.2f} (studio/cog)")
