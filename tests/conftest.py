from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from accounts import services as account_services
from accounts.models import User
from generations import forecast, storage
from tests.backends import free_port

ROOT = Path(__file__).resolve().parent.parent
_names = itertools.count(1)
# Fixtures of the /v1 contract tests (account, anonymous, api_url); used only where requested.
pytest_plugins = ["tests.api_support"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_forecast():
    """Measured render times and signed links are remembered for a while per process: not from one test to the next."""
    forecast._measured.clear()
    storage._recent_links.clear()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """make_user(tier="pro", credits=1000): a user created as signup does."""

    def make(username: str | None = None, *, tier: str = "free", credits: int | None = None) -> User:
        from django.db import transaction

        from accounts import ledger

        user = account_services.create_user(
            username=username or f"user{next(_names)}", password="pass-word-123", tier=tier
        )
        if credits is not None:
            with transaction.atomic():
                ledger.set_balance(user=user, target=credits)
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def user(make_user) -> User:
    """A signed-up user with the 50 free credits (a test module may override it)."""
    return make_user()


@pytest.fixture
def logged_in(client, user):
    """Django's test client, logged in as `user`."""
    client.force_login(user)
    return client


def wait_for(
    predicate: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.05, message: str = ""
) -> object:
    """Poll until `predicate()` is truthy; fail the test with `message` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


def wait_until_serving(url: str, *, timeout: float = 60.0) -> None:
    """Poll `url`'s OpenAPI document until the server behind it answers 200."""

    def up() -> bool:
        try:
            return httpx.get(f"{url}/v1/openapi.json", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, timeout=timeout, message=f"{url} to answer")


class WorkerProcess:
    """A real `celery worker` subprocess on the test database and broker folders."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "studio", "worker", "--pool", "solo", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-Q", self.env.get("WORKER_QUEUES", "render,webhooks,default"), "--loglevel", "INFO",
             *(["-B", "-s", str(Path(self.env["STUDIO_VAR_DIR"]) / f"beat-{time.monotonic_ns()}")]
               if self.env.get("WITH_BEAT") else [])],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to clean up, as in a crash or OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_env(transactional_db, settings, tmp_path) -> dict[str, str]:
    """Environment for a worker subprocess: the test database, media root and broker."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        STUDIO_SQLITE_PATH=str(connection.settings_dict["NAME"]),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONUNBUFFERED="1",
    )
    if connection.vendor == "postgresql":  # the test database, not the one DATABASE_URL names
        env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + str(connection.settings_dict["NAME"])
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """start_worker(**env): start a worker subprocess; every one is stopped after the test."""
    workers: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        worker = WorkerProcess({**worker_env, **extra_env}, tmp_path / f"worker-{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def start_web(worker_env, tmp_path) -> Iterator[Callable[..., str]]:
    """start_web(threads=4, **env): a real gunicorn (one process) on the test database; its
    base URL once it answers. Every one is stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(threads: int = 4, **extra_env: str) -> str:
        port = free_port()
        log = (tmp_path / f"web-{port}.log").open("wb")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "studio.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", str(threads)],
            cwd=ROOT, env={**worker_env, "WEB_THREADS": str(threads), **extra_env}, stdout=log,
            stderr=subprocess.STDOUT,
        ))  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(20)
