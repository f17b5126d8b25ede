"""Server-sent events: parse them, and follow a stream across reconnections to its end.

Studio's `…/events` endpoints send `progress` events, then one terminal event
(`completed`, `failed` or `canceled`). A stream also ends after a few minutes, or a
connection drops: `follow` reconnects with `Last-Event-ID`, so the caller sees each event
once, in order, until the terminal one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from seedance import _transport
from seedance._transport import Transport
from seedance.errors import APIConnectionError

TERMINAL = frozenset({"completed", "failed", "canceled"})
DEFAULT_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Event:
    """One event: its name (`progress`, `completed`, ...), the `id:` it carried, and its JSON `data`."""

    event: str
    data: Any
    id: str | None = None

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL


class Parser:
    """The event-stream format, a line at a time (comments ignored, `retry:` remembered)."""

    def __init__(self) -> None:
        self.retry: float | None = None
        self._name = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, line: str) -> Event | None:
        """The event that `line` completes (a blank line after data), else None."""
        if line == "":
            if not self._data:
                self._name = ""
                return None
            raw = "\n".join(self._data)
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw
            event = Event(self._name or "message", data, self._id)
            self._name, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._name = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value) / 1000
        return None


def follow(transport: Transport, path: str, *, last_event_id: str | None = None) -> Iterator[Event]:
    """Every event of the stream at `path` until its terminal one, reconnecting as needed.

    A stream the server ends (its time is up) is reopened after the server's `retry:` hint;
    a dropped connection too, with backoff, at most `max_retries` times in a row without an
    event. A 204 means the terminal event was already seen: the iteration just ends.
    """
    last = last_event_id
    delay = DEFAULT_RETRY_SECONDS
    failures = 0
    while True:
        headers = {"Accept": "text/event-stream"}
        if last is not None:
            headers["Last-Event-ID"] = last
        try:
            with transport.stream("GET", path, headers=headers) as response:
                if response.status_code == 204:
                    return
                parser = Parser()
                for line in response.iter_lines():
                    event = parser.feed(line)
                    if parser.retry is not None:
                        delay = parser.retry
                    if event is None:
                        continue
                    failures = 0
                    if event.id is not None:
                        last = event.id
                    yield event
                    if event.terminal:
                        return
        except httpx.TransportError as exc:
            failures += 1
            if failures > transport.max_retries:
                raise APIConnectionError(
                    f"The event stream {path} kept dropping: {exc}", code="connection_error"
                ) from exc
            _transport.sleep(max(delay, _transport.backoff(failures - 1)))
            continue
        _transport.sleep(delay)
