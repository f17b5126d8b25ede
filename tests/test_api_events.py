"""Progress as a stream: GET /v1/images/{task_id}/events and /v1/images/batch/{batch_id}/events.

Real HTTP throughout (the live server, and gunicorn for the serving arrangement), read as
an SSE client reads: line by line, events split on blank lines, comments kept for the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from generations import services
from generations.api import events
from generations.models import Batch, Generation
from tests.api_support import MODEL, Account, assert_error, generate, render
from tests.conftest import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLOW = {MODEL: {"engine": "fake", "options": {"step_delay": 0.3}}, "broken": {"engine": "fake", "options": {}}}


@dataclass
class Event:
    name: str
    id: int
    data: dict


@dataclass
class Stream:
    """What a client read from one stream, in order."""

    status: int
    headers: httpx.Headers
    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None


def sse(lines: Iterator[str], into: Stream, *, until: Callable[[Event], bool] = lambda e: False) -> Stream:
    """Parse server-sent events from `lines` into `into`, up to the end or the event `until` accepts."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            into.comments.append(line[1:].strip())
        elif line.startswith("retry:"):
            into.retry = int(line.split(":", 1)[1])
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif "data" in fields:
            event = Event(fields.get("event", "message"), int(fields["id"]), json.loads(fields["data"]))
            into.events.append(event)
            fields = {}
            if until(event):
                break
    return into


def read(
    http: httpx.Client, path: str, *, last: int | None = None, until: Callable[[Event], bool] = lambda e: False
) -> Stream:
    headers = {"Last-Event-ID": str(last)} if last is not None else {}
    with http.stream("GET", path, headers=headers) as response:
        stream = Stream(response.status_code, response.headers)
        if response.status_code == 200:
            sse(response.iter_lines(), stream, until=until)
        else:
            response.read()
        return stream


@pytest.fixture
def quick(settings):
    """Streams that poll often and end soon, so a test never waits long for either."""
    settings.STUDIO_EVENTS_POLL_SECONDS = 0.05
    settings.STUDIO_EVENTS_MAX_SECONDS = 2.0
    return settings


def submitted(acct: Account, **fields: object) -> str:
    reply = generate(acct, **fields)
    assert reply.status_code == 200, reply.text
    return reply.json()["task_id"]


# --- One image -----------------------------------------------------------------------------


def test_a_real_worker_streams_progress_then_completed_with_the_get_body(account, start_worker, quick):
    quick.STUDIO_EVENTS_MAX_SECONDS = 60
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(SLOW), STUDIO_PROGRESS_MIN_INTERVAL="0")
    acct = account()
    task_id = submitted(acct)

    stream = read(acct.http, f"/images/{task_id}/events", until=lambda e: e.name != "progress")
    assert stream.status == 200, worker.log()
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert "X-RateLimit-Remaining" in stream.headers and stream.headers["X-RateLimit-Scope"] == "polling"
    assert stream.retry == 1000
    names = [e.name for e in stream.events]
    assert names[-1] == "completed" and set(names[:-1]) == {"progress"}, names
    ids = [e.id for e in stream.events]
    assert ids == sorted(set(ids)), ids  # strictly increasing
    progress = [e.data for e in stream.events if e.name == "progress"]
    rendering = [p for p in progress if 0 < p["progress"] < 1]
    assert rendering, f"no progress seen between 0 and 1: {progress}"
    assert [p["progress"] for p in progress] == sorted(p["progress"] for p in progress)
    got = acct.http.get(f"/images/{task_id}").json()
    keys = processing_keys(acct)
    for p in progress:
        assert set(p) == keys and p["task_id"] == task_id and p["status"] == "processing"
    done = stream.events[-1].data
    assert set(done) == set(got) and done["status"] == "completed" and done["task_id"] == task_id
    with httpx.Client(timeout=30) as anyone:  # the event's links are signed, like GET's
        assert anyone.get(done["image_url"]).status_code == 200


def processing_keys(acct: Account) -> set[str]:
    """The fields GET /v1/images/{task_id} answers for an image that is processing."""
    return set(acct.http.get(f"/images/{submitted(acct)}").json())


def test_last_event_id_resumes_with_only_what_was_not_seen(account, quick):
    quick.STUDIO_EVENTS_MAX_SECONDS = 0.5
    acct = account()
    task_id = submitted(acct)
    path = f"/images/{task_id}/events"

    first = read(acct.http, path)  # no worker: queued until the stream's time is up
    assert [e.name for e in first.events] == ["progress"]
    assert first.events[0].data == acct.http.get(f"/images/{task_id}").json()
    assert any("reconnect" in c for c in first.comments)
    seen = first.events[0].id

    again = read(acct.http, path, last=seen)
    assert again.status == 200 and again.events == []  # nothing new: nothing sent

    render(task_id)
    resumed = read(acct.http, path, last=seen)
    assert [e.name for e in resumed.events] == ["completed"] and resumed.events[0].id > seen
    assert resumed.events[0].data["image_url"]

    finished = read(acct.http, path, last=resumed.events[0].id)
    assert finished.status == 204 and "X-RateLimit-Remaining" in finished.headers
    assert read(acct.http, path).events[0].id == resumed.events[0].id  # a fresh stream starts from the state


def test_a_failed_image_ends_the_stream_with_failed(account, quick):
    acct = account()
    task_id = submitted(acct, model="broken")
    render(task_id)
    stream = read(acct.http, f"/images/{task_id}/events")
    assert [e.name for e in stream.events] == ["failed"]
    assert stream.events[0].data == acct.http.get(f"/images/{task_id}").json()
    assert stream.events[0].data["error_code"] == "generation_failed"


def test_a_canceled_image_ends_the_stream_with_canceled(account, quick):
    acct = account()
    task_id = submitted(acct)
    canceled = Generation.objects.get(public_id=task_id)
    services.cancel(user=canceled.user, generation=canceled)
    stream = read(acct.http, f"/images/{task_id}/events")
    assert [e.name for e in stream.events] == ["canceled"]
    assert stream.events[0].data == acct.http.get(f"/images/{task_id}").json()


def test_keep_alive_comments_come_between_events(account, quick):
    quick.STUDIO_EVENTS_KEEPALIVE_SECONDS = 0.05
    quick.STUDIO_EVENTS_MAX_SECONDS = 1.0
    acct = account()
    stream = read(acct.http, f"/images/{submitted(acct)}/events")
    assert len(stream.events) == 1
    assert stream.comments.count("keep-alive") >= 3, stream.comments


def test_errors_before_the_stream_are_the_envelope(account, anonymous, quick):
    acct, other = account(), account()
    theirs = submitted(other)
    for path in ("/images/img_nope/events", f"/images/{theirs}/events", "/images/batch/batch_nope/events"):
        reply = acct.http.get(path)
        assert "No " in assert_error(reply, 404, "not_found")
        assert "X-RateLimit-Remaining" in reply.headers
    mine = submitted(acct)
    for bad in ("abc", "-1", "1" * 31):
        assert "Last-Event-ID" in assert_error(
            acct.http.get(f"/images/{mine}/events", headers={"Last-Event-ID": bad}), 400, "invalid_last_event_id"
        )
    assert_error(anonymous.get(f"/images/{mine}/events"), 401, "invalid_api_key")


def test_a_stream_counts_once_against_the_polling_allowance(account, quick):
    quick.STUDIO_EVENTS_KEEPALIVE_SECONDS = 0.05
    quick.STUDIO_EVENTS_MAX_SECONDS = 0.5
    acct = account()
    task_id = submitted(acct)
    before = int(acct.http.get(f"/images/{task_id}").headers["X-RateLimit-Remaining"])
    stream = read(acct.http, f"/images/{task_id}/events")
    assert len(stream.comments) >= 3  # many polls of the row, one request
    assert int(stream.headers["X-RateLimit-Remaining"]) == before - 1


def test_beyond_the_cap_a_stream_is_refused_with_429_and_retry_after(account, quick):
    quick.STUDIO_EVENTS_MAX_STREAMS = 1
    quick.STUDIO_EVENTS_KEEPALIVE_SECONDS = 0.05
    quick.STUDIO_EVENTS_MAX_SECONDS = 30
    acct = account()
    task_id = submitted(acct)
    with acct.http.stream("GET", f"/images/{task_id}/events") as held:
        assert held.status_code == 200
        next(held.iter_lines())
        refused = acct.http.get(f"/images/{task_id}/events")
        assert "event streams" in assert_error(refused, 429, "too_many_streams")
        assert refused.headers["Retry-After"] == str(events.RETRY_AFTER_STREAMS)
        assert acct.http.get(f"/images/{task_id}").status_code == 200  # polling still works
    # The server notices the client left at its next keep-alive, and frees the place.
    wait_for(lambda: events.SLOTS.open == 0, timeout=10, message="the stream's place to be given back")
    quick.STUDIO_EVENTS_MAX_SECONDS = 0.2
    assert read(acct.http, f"/images/{task_id}/events").status == 200


# --- Batches -------------------------------------------------------------------------------


def test_a_batch_streams_its_status_to_completed_with_a_real_worker(account, start_worker, quick):
    quick.STUDIO_EVENTS_MAX_SECONDS = 60
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(SLOW), STUDIO_PROGRESS_MIN_INTERVAL="0")
    acct = account()
    accepted = acct.http.post("/images/batch", json={"generations": [{"model": MODEL, "prompt": "x"}] * 2})
    batch_id = accepted.json()["batch_id"]

    stream = read(acct.http, f"/images/batch/{batch_id}/events", until=lambda e: e.name != "progress")
    names = [e.name for e in stream.events]
    assert names[-1] == "completed" and set(names[:-1]) == {"progress"}, (names, worker.log()[-3000:])
    ids = [e.id for e in stream.events]
    assert ids == sorted(set(ids))
    got = acct.http.get(f"/images/batch/{batch_id}").json()
    assert set(stream.events[0].data) == set(got)
    fractions = [e.data["progress"] for e in stream.events]
    assert fractions == sorted(fractions) and len(set(fractions)) > 2
    done = stream.events[-1].data
    assert done["status"] == "completed" and done["counts"]["completed"] == 2
    assert [r["status"] for r in done["results"]] == ["completed", "completed"]


def test_a_canceled_batch_ends_its_stream_with_canceled(account, quick):
    acct = account()
    accepted = acct.http.post("/images/batch", json={"generations": [{"model": MODEL, "prompt": "x"}] * 2})
    batch_id = accepted.json()["batch_id"]
    path = f"/images/batch/{batch_id}/events"
    quick.STUDIO_EVENTS_MAX_SECONDS = 0.3
    first = read(acct.http, path)
    assert [e.name for e in first.events] == ["progress"]

    render(accepted.json()["task_ids"][0])
    services.cancel_batch(user=acct.user, batch=Batch.objects.get(public_id=batch_id))
    resumed = read(acct.http, path, last=first.events[0].id)
    assert [e.name for e in resumed.events] == ["canceled"]
    assert resumed.events[0].data == acct.http.get(f"/images/batch/{batch_id}").json()
    assert resumed.events[0].data["counts"] == {"completed": 1, "failed": 0, "canceled": 1, "processing": 0}
    assert read(acct.http, path, last=resumed.events[0].id).status == 204


# --- The schema, and serving streams beside other requests ---------------------------------


def test_the_document_describes_the_streams_and_their_replies(anonymous, account, quick):
    doc = anonymous.get("/openapi.json").json()
    acct = account()
    task_id = submitted(acct)
    for path in ("/v1/images/{task_id}/events", "/v1/images/batch/{batch_id}/events"):
        op = doc["paths"][path]["get"]
        assert set(op["responses"]["200"]["content"]) == {"text/event-stream"}
        assert any(p["name"] == "Last-Event-ID" and p["in"] == "header" for p in op["parameters"])
        assert {"200", "204", "400", "401", "404", "429"} <= set(op["responses"])
        assert "`too_many_streams`" in op["responses"]["429"]["description"]
        assert "Retry-After" in op["responses"]["429"]["headers"]
    op = doc["paths"]["/v1/images/{task_id}/events"]["get"]
    quick.STUDIO_EVENTS_MAX_SECONDS = 0.2
    replies = [
        read(acct.http, f"/images/{task_id}/events"),
        acct.http.get("/images/img_nope/events"),
        acct.http.get(f"/images/{task_id}/events", headers={"Last-Event-ID": "x"}),
    ]
    for reply in replies:
        status = reply.status if isinstance(reply, Stream) else reply.status_code
        documented = op["responses"][str(status)]
        for name in documented.get("headers", {}):
            assert name in reply.headers, (status, name)
    canceled = Generation.objects.get(public_id=task_id)
    services.cancel(user=canceled.user, generation=canceled)
    end = read(acct.http, f"/images/{task_id}/events").events[-1].id
    assert "204" in op["responses"] and read(acct.http, f"/images/{task_id}/events", last=end).status == 204


def test_open_streams_leave_gunicorn_threads_for_other_requests(account, start_web):
    acct = account()
    task_ids = [submitted(acct) for _ in range(3)]  # no worker: each stays queued, its stream open
    url = start_web(4, STUDIO_EVENTS_KEEPALIVE_SECONDS="0.2", STUDIO_EVENTS_MAX_SECONDS="120")
    auth = {"Authorization": f"Bearer {acct.key}"}
    with (
        httpx.Client(base_url=f"{url}/v1", headers=auth, timeout=10) as http,
        http.stream("GET", f"/images/{task_ids[0]}/events") as one,
        http.stream("GET", f"/images/{task_ids[1]}/events") as two,
    ):
        assert one.status_code == two.status_code == 200
        lines = [one.iter_lines(), two.iter_lines()]
        # Four threads, two streams: the cap (WEB_THREADS - 2) is reached, the rest are free.
        assert_error(http.get(f"/images/{task_ids[2]}/events"), 429, "too_many_streams")
        for _ in range(5):
            assert http.get("/models").status_code == 200
            assert http.get(f"/images/{task_ids[2]}").json()["status"] == "processing"
            assert http.get("/account/credits").status_code == 200
        for stream in lines:  # and both streams are still alive
            assert wait_for(lambda s=stream: next(s) == ": keep-alive", timeout=10)


@pytest.mark.parametrize(("threads", "streams"), [("8", 6), ("4", 2), ("2", 1), ("1", 0)])
def test_by_default_a_process_keeps_threads_free_beside_its_streams(threads, streams):
    env = {**os.environ, "WEB_THREADS": threads}
    env.pop("STUDIO_EVENTS_MAX_STREAMS", None)
    done = subprocess.run(
        [sys.executable, "-c", "import studio.settings as s; print(s.STUDIO_EVENTS_MAX_STREAMS)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) == streams
