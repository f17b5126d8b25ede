"""The embedded broker under a stress of several producer and consumer processes.

kombu's own filesystem transport creates a message file before writing it, so a consumer
can read it empty (kombu issue 1551): the message is lost and the consumer dies of
JSONDecodeError. The same stress against `studio.broker` must read nothing empty and
lose nothing. The kombu case is kept as a non-strict xfail: it shows the race is real on
this machine whenever it hits, without making the suite depend on a race being won.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from studio.broker import REJECTED

pytestmark = pytest.mark.e2e

MESSAGES = 3000
PRODUCERS = 3
CONSUMERS = 3
QUEUE = "stress"


def _options(root: Path) -> dict[str, object]:
    return {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "control_folder": str(root / "control"),
        "processed_folder": str(root / "processed"),
        "store_processed": False,
        "polling_interval": 0.001,
    }


def _produce(transport: str, root: str, start: int, count: int) -> None:
    with Connection(transport=transport, transport_options=_options(Path(root))) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for n in range(start, start + count):
            queue.put({"n": n})
        queue.close()


def _consume(transport: str, root: str, out: str, expected: int) -> None:
    """Take messages until none has come for a while; write what was read and what failed."""
    received: list[int] = []
    failures = 0
    idle = 0
    with Connection(transport=transport, transport_options=_options(Path(root))) as conn:
        queue = conn.SimpleQueue(QUEUE)
        while idle < 20:
            try:
                message = queue.get(timeout=0.1)
            except queue.Empty:
                idle += 1
                continue
            except Exception:  # kombu's transport: JSONDecodeError on an empty file
                failures += 1
                continue
            idle = 0
            received.append(message.payload["n"])
            message.ack()
    Path(out).write_text(json.dumps({"received": received, "failures": failures}))


def stress(transport: str, root: Path) -> dict[str, int]:
    for name in ("queue", "control", "processed"):
        (root / name).mkdir(parents=True)
    ctx = multiprocessing.get_context("spawn")
    per = MESSAGES // PRODUCERS
    consumers = [
        ctx.Process(target=_consume, args=(transport, str(root), str(root / f"out-{i}.json"), MESSAGES))
        for i in range(CONSUMERS)
    ]
    producers = [ctx.Process(target=_produce, args=(transport, str(root), i * per, per)) for i in range(PRODUCERS)]
    for p in consumers + producers:
        p.start()
    for p in producers + consumers:
        p.join(180)
        assert p.exitcode == 0, f"a stress process exited with {p.exitcode}"
    results = [json.loads((root / f"out-{i}.json").read_text()) for i in range(CONSUMERS)]
    received = [n for r in results for n in r["received"]]
    left = [f for f in os.listdir(root / "queue") if not f.startswith(".")]
    return {
        "received": len(received),
        "duplicates": len(received) - len(set(received)),
        "lost": MESSAGES - len(set(received)) - len(left),
        "failures": sum(r["failures"] for r in results),
        "left_in_queue": len(left),
    }


def test_studios_transport_reads_nothing_empty_and_loses_nothing(tmp_path):
    result = stress("studio.broker:Transport", tmp_path)
    assert result == {"received": MESSAGES, "duplicates": 0, "lost": 0, "failures": 0, "left_in_queue": 0}


@pytest.mark.xfail(reason="kombu issue 1551: the race studio.broker closes", strict=False)
def test_kombus_own_transport_under_the_same_stress(tmp_path):
    result = stress("kombu.transport.filesystem:Transport", tmp_path)
    assert result["failures"] == 0 and result["lost"] == 0, result


def test_a_malformed_message_is_set_aside_and_the_next_one_is_delivered(tmp_path):
    options = _options(tmp_path)
    for name in ("queue", "control", "processed"):
        (tmp_path / name).mkdir()
    with Connection(transport="studio.broker:Transport", transport_options=options) as conn:
        queue = conn.SimpleQueue(QUEUE)
        (tmp_path / "queue" / f"0000000000000_empty.{QUEUE}.msg").write_bytes(b"")
        (tmp_path / "queue" / f"0000000000001_garbage.{QUEUE}.msg").write_bytes(b"{not json")
        queue.put({"n": 7})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    assert message.payload == {"n": 7}
    assert sorted(os.listdir(tmp_path / REJECTED)) == [
        f"0000000000000_empty.{QUEUE}.msg",
        f"0000000000001_garbage.{QUEUE}.msg",
    ]
    assert [f for f in os.listdir(tmp_path / "queue")] == []


def test_a_message_that_cannot_be_written_leaves_no_partial_file(tmp_path):
    options = _options(tmp_path)
    for name in ("control", "processed"):
        (tmp_path / name).mkdir()
    (tmp_path / "queue").write_text("a file where the folder should be")
    with (
        Connection(transport="studio.broker:Transport", transport_options=options) as conn,
        pytest.raises(ChannelError, match="Cannot add a message"),
    ):
        conn.default_channel._put(QUEUE, {"n": 1})
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
