"""`python -m tests.backends [pytest arguments]`: the suite on the many-machine configuration.

Starts, on loopback and in a private temporary folder, the parts the README's scale-out
configuration names: PostgreSQL 15 (Debian's server binaries; as the `postgres` user when
run as root, since the server refuses root), Redis 7 (the broker on one database, the
cache on another) and an S3-compatible server (moto's server mode). Then it runs pytest
with `DATABASE_URL`, `CELERY_BROKER_URL`, `CACHE_URL` and `STUDIO_STORAGE=s3` pointing at
them, exactly as an operator would configure Studio, and stops them all afterwards,
whatever happened. The exit status is pytest's.

`make test` runs the whole suite on the embedded defaults first, then the end-to-end,
API, webhook, SDK and recovery tests through this module.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "studio-tests"
# Redis users for the suite's processes: `main` and pytest-xdist's gw0 … gw5 (tests/settings.py).
REDIS_USERS = ["main", *(f"gw{n}" for n in range(6))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin() -> Path:
    for version in ("15", "16", "17"):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin")
        if (candidate / "postgres").exists():
            return candidate
    raise SystemExit("PostgreSQL server binaries not found: `make system-deps` installs Debian's postgresql")


@contextlib.contextmanager
def postgres(folder: Path) -> Iterator[str]:
    """A throwaway cluster (trust auth, loopback, no fsync): yields its DATABASE_URL."""
    binaries, data, port, log = postgres_bin(), folder / "pg", free_port(), folder / "postgres.log"
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        folder.chmod(0o755)
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        log.touch()
        shutil.chown(log, "postgres", "postgres")
    user = "postgres" if as_user else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    proc = subprocess.Popen(
        [*as_user, str(binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(data),
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait("PostgreSQL", lambda: _answers(port), proc, log)
        url = f"postgres://{user}@127.0.0.1:{port}/postgres"
        for _ in range(100):  # accepting TCP a moment before it accepts sessions
            if subprocess.run([str(binaries / "pg_isready"), "-d", url], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(
            [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "studio"], check=True
        )
        yield f"postgres://{user}@127.0.0.1:{port}/studio"
    finally:
        _stop(proc)


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[str]:
    port, log = free_port(), folder / "redis.log"
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit("redis-server not found: `make system-deps` installs Debian's redis-server")
    proc = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait("Redis", lambda: _answers(port), proc, log)
        import redis as redis_client

        admin = redis_client.Redis(host="127.0.0.1", port=port)
        for name in REDIS_USERS:  # one each, so a test can make Redis refuse *its* messages only
            admin.execute_command("ACL", "SETUSER", name, "on", f">{name}", "~*", "&*", "+@all")
        yield f"redis://127.0.0.1:{port}"
    finally:
        _stop(proc)


@contextlib.contextmanager
def s3(folder: Path) -> Iterator[str]:
    """moto's S3-compatible server, with the bucket the tests use."""
    port, log = free_port(), folder / "s3.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env={**os.environ, **S3_CREDENTIALS},
    )  # fmt: skip
    try:
        _wait("the S3 server", lambda: _answers(port), proc, log)
        endpoint = f"http://127.0.0.1:{port}"
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_boto_credentials()).create_bucket(
            Bucket=BUCKET
        )
        yield endpoint
    finally:
        _stop(proc)


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "studio-tests", "AWS_SECRET_ACCESS_KEY": "studio-tests-secret"}


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def environment(database_url: str, redis_url: str, s3_endpoint: str) -> dict[str, str]:
    """The scale-out configuration, as the README documents it."""
    return {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "CACHE_URL": f"{redis_url}/1",
        "STUDIO_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        **S3_CREDENTIALS,
    }


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="studio-backends-") as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        database_url = stack.enter_context(postgres(folder))
        redis_url = stack.enter_context(redis(folder))
        s3_endpoint = stack.enter_context(s3(folder))
        env = {**os.environ, **environment(database_url, redis_url, s3_endpoint)}
        env.pop("STUDIO_VAR_DIR", None)
        print(f"tests.backends: PostgreSQL {database_url}, Redis {redis_url}, S3 {s3_endpoint}", flush=True)
        return subprocess.run([sys.executable, "-m", "pytest", *argv], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
