"""Progress as a stream: server-sent events for one image or one batch (`…/events`).

A stream re-reads its row through the selectors every `STUDIO_EVENTS_POLL_SECONDS` and sends
an event whenever the row's state has moved on: `progress` (the very body that
`GET /v1/images/{task_id}` or `GET /v1/images/batch/{batch_id}` would answer), then one
terminal event (`completed`, `failed` or `canceled`, with the same body) and it ends.

Every event's `id:` is a number derived from the row's state that only ever grows (see
`image_step`): a client reconnecting with `Last-Event-ID` is sent only states newer than the
one it saw, and one that already saw the terminal event gets 204 No Content (which tells an
EventSource to stop). Between events a `: keep-alive` comment every
`STUDIO_EVENTS_KEEPALIVE_SECONDS`; after `STUDIO_EVENTS_MAX_SECONDS` the stream ends so the
client reconnects (the SDKs do it for the caller).

A stream holds a web server thread for as long as it lasts, so each process serves at most
`STUDIO_EVENTS_MAX_STREAMS` at once and answers 429 `too_many_streams` beyond: the other
threads stay free for every other request.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from accounts.models import User
from generations import forecast, selectors
from generations.api import shapes
from generations.api.errors import ApiError
from generations.models import FINISHED, Generation, Stage

log = logging.getLogger("generations.api.events")

EVENT_STREAM = "text/event-stream"
LAST_EVENT_ID = "Last-Event-ID"
RETRY_AFTER_STREAMS = 5  # seconds, on a 429 `too_many_streams`
# What Last-Event-ID may be (as documented): far longer than any id a stream sends.
EVENT_ID = re.compile(r"[0-9]{1,30}")

# Within one attempt a generation's step grows through these bands; each attempt adds ATTEMPT.
ATTEMPT = 4000
RENDERING = 1001  # + progress in thousandths (0..1000)
REQUEUED = 2001  # given back to the queue after this attempt (a transient fault, a dead worker)
ENDED = 3002
# An image's id is step * QUEUE_BAND + a sub-step that grows as the image moves up the queue.
QUEUE_BAND = 1001


def image_step(g: Generation) -> int:
    """A number that grows whenever the generation moves on and never goes back.

    Attempts only grow (each claim adds one), progress is reset only by a new attempt or by
    going back to the queue, and each of those lands in a higher band than what came before.
    """
    attempt = ATTEMPT * g.attempts
    if g.stage in FINISHED:
        return attempt + ENDED
    if g.stage == Stage.RENDERING:
        return attempt + RENDERING + max(0, min(1000, round(g.progress * 1000)))
    return attempt + REQUEUED if g.attempts else 0


def image_event_id(g: Generation) -> int:
    """`image_step`, with the place in line while queued (nearer the front is later)."""
    sub = 0
    if g.stage == Stage.QUEUED:
        position = forecast.one(g).position
        if position is not None:
            sub = QUEUE_BAND - 1 - min(position, QUEUE_BAND - 1)
    return image_step(g) * QUEUE_BAND + sub


def batch_event_id(items: list[Generation], finished: bool) -> int:
    """Twice the sum of the items' steps (each only grows), plus one once the batch is finished:
    the last `progress` (every item done) comes before `completed`."""
    return 2 * sum(image_step(g) for g in items) + (1 if finished else 0)


# --- The per-process cap -----------------------------------------------------------------


class _Slots:
    """How many streams this process is serving; at most `STUDIO_EVENTS_MAX_STREAMS`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def take(self) -> None:
        limit = settings.STUDIO_EVENTS_MAX_STREAMS
        with self._lock:
            if self.open >= limit:
                raise ApiError(
                    "too_many_streams",
                    f"This server process is already serving {self.open} event streams (at most {limit}, so "
                    f"that other requests always find a free thread). Retry after {RETRY_AFTER_STREAMS} "
                    "seconds, or poll GET /v1/images/{task_id} meanwhile.",
                    {"Retry-After": str(RETRY_AFTER_STREAMS)},
                )
            self.open += 1

    def give_back(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


SLOTS = _Slots()


# --- Frames ------------------------------------------------------------------------------


def frame(event_id: int, name: str, data: dict[str, Any]) -> str:
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def last_event_id(raw: str | None) -> int:
    """The Last-Event-ID header as a number; -1 when absent (so the first state is sent)."""
    if raw is None:
        return -1
    if not EVENT_ID.fullmatch(raw):
        raise ApiError(
            "invalid_last_event_id",
            f"Last-Event-ID must be the id of an event this stream sent (digits only), not {raw[:40]!r}.",
        )
    return int(raw)


@dataclass(frozen=True)
class State:
    """What a stream sends for the row as it is now."""

    event_id: int
    name: str  # progress, or the terminal event's name
    terminal: bool
    body: Callable[[], dict[str, Any]]  # built only when sent


class EventStream:
    """The body of a streaming reply: an iterator the server drains, closed by the server.

    `close` (Django calls it once the server is done, whether the stream ended, the client
    went away or the server is stopping) gives the slot back and closes this thread's
    database connection: the stream ran after Django's request cycle, in a thread that may
    be kept for other requests or simply end.
    """

    def __init__(self, read: Callable[[], State], last_seen: int) -> None:
        self._read = read
        self._last = last_seen
        self._closed = False
        self._events = self._run()

    def __iter__(self) -> Iterator[bytes]:
        return self._events

    def _run(self) -> Generator[bytes, None, None]:
        poll = settings.STUDIO_EVENTS_POLL_SECONDS
        keepalive = settings.STUDIO_EVENTS_KEEPALIVE_SECONDS
        started = time.monotonic()
        deadline = started + settings.STUDIO_EVENTS_MAX_SECONDS
        yield f"retry: {settings.STUDIO_EVENTS_RETRY_MS}\n\n".encode()
        wrote = started
        while True:
            try:
                state = self._read()
            except Http404:
                return  # deleted (or no longer shared) while streaming
            except DatabaseError as exc:  # busy or gone for a moment: try again at the next poll
                log.warning("event stream could not read its row: %s: %s", type(exc).__name__, exc)
                connection.close_if_unusable_or_obsolete()
                state = None
            now = time.monotonic()
            if state is not None and state.event_id > self._last:
                yield frame(state.event_id, state.name, state.body()).encode()
                self._last, wrote = state.event_id, now
            if state is not None and state.terminal:
                return
            if now >= deadline:
                yield b": stream time is up; reconnect with Last-Event-ID\n\n"
                return
            if now - wrote >= keepalive:
                yield b": keep-alive\n\n"
                wrote = now
            time.sleep(max(0.0, min(poll, deadline - now, keepalive - (now - wrote))))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._events.close()
        SLOTS.give_back()
        if not connection.in_atomic_block:
            connection.close()


def _reply(read: Callable[[], State], last_seen: int) -> HttpResponseBase:
    """204 when the client already saw the end; else the stream (a 429 when this process is full)."""
    first = read()
    if first.terminal and last_seen >= first.event_id:
        return HttpResponse(status=204)
    SLOTS.take()
    response = StreamingHttpResponse(EventStream(read, last_seen), content_type=EVENT_STREAM)
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


# --- The two streams ---------------------------------------------------------------------

TERMINAL_IMAGE_EVENTS = {"completed": "completed", "failed": "failed", "canceled": "canceled"}


def image_events(*, user: User, task_id: str, base_url: str, last_event_id: int) -> HttpResponseBase:
    """GET /v1/images/{task_id}/events (Http404, before any stream, for an image the user may not see)."""

    def read() -> State:
        g = selectors.generation_for_user(user, task_id)
        name = TERMINAL_IMAGE_EVENTS.get(g.status, "progress")
        return State(image_event_id(g), name, g.is_finished, lambda: shapes.image(g, base_url))

    return _reply(read, last_event_id)


def batch_events(*, user: User, batch_id: str, base_url: str, last_event_id: int) -> HttpResponseBase:
    """GET /v1/images/batch/{batch_id}/events: the batch's status whenever an item moves on.

    It ends with `canceled` when any item was canceled (POST …/batch/{batch_id}/cancel ends
    every unfinished one so), else `completed`; either way the body is the batch's status.
    """

    def read() -> State:
        batch = selectors.batch_for_user(user, batch_id)
        items = selectors.batch_items(batch)
        finished = batch.finished_at is not None
        name = "progress"
        if finished:
            name = "canceled" if any(g.stage == Stage.CANCELED for g in items) else "completed"
        return State(
            batch_event_id(items, finished), name, finished, lambda: shapes.batch_status(batch, items, base_url)
        )

    return _reply(read, last_event_id)
