"""`client.images`: submit, wait, stream, read, list, cancel; batches."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from seedance import _transport
from seedance._stream import Event, follow
from seedance._transport import Transport
from seedance.errors import GenerationFailedError, WaitTimeoutError

FIRST_POLL_SECONDS = 0.25
ENDED = ("failed", "canceled")


def _body(fields: dict[str, Any]) -> dict[str, Any]:
    """The request body: the given fields, leaving out those left as None."""
    return {k: v for k, v in fields.items() if v is not None}


class Images:
    """Image generation. Replies are returned as the API sends them (dicts, snake_case keys)."""

    def __init__(self, transport: Transport, *, wait_timeout: float, poll_interval: float) -> None:
        self._t = transport
        self._wait_timeout = wait_timeout
        self._poll_interval = poll_interval

    def generate(
        self,
        *,
        model: str,
        prompt: str,
        aspect_ratio: str | None = None,
        deep_thinking: bool | None = None,
        style: str | None = None,
        colors: list[str] | None = None,
        webhook_url: str | None = None,
        metadata: dict[str, Any] | None = None,
        team: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Submit one image (`POST /images/generate`) and, unless `wait=False`, wait for it.

        Returns the completed image (`image_url`, `width`, `height`, ...), or with `wait=False`
        the submit reply (`task_id`, `credits_charged`, ...). Unknown keywords (e.g. `seed`)
        are sent as they are. Raises GenerationFailedError if the image fails.
        """
        body = _body(
            {
                "model": model,
                "prompt": prompt,
                "aspect_ratio": aspect_ratio,
                "deep_thinking": deep_thinking,
                "style": style,
                "colors": colors,
                "webhook_url": webhook_url,
                "metadata": metadata,
                "team": team,
                **extra,
            }
        )
        submitted = self._t.request("POST", "/images/generate", json=body, idempotency_key=idempotency_key)
        if not wait:
            return submitted
        return self.wait(submitted["task_id"], timeout=timeout)

    def get(self, task_id: str) -> dict[str, Any]:
        """`GET /images/{task_id}`: processing (progress), completed (links), failed or canceled."""
        return self._t.request("GET", f"/images/{task_id}")

    def wait(self, task_id: str, *, timeout: float | None = None, poll_interval: float | None = None) -> dict[str, Any]:
        """Poll until the image is completed and return it.

        Raises GenerationFailedError if it ends failed or canceled, WaitTimeoutError after
        `timeout` seconds (default: the client's `wait_timeout`, 300 s).
        """
        task = self._poll(lambda: self.get(task_id), timeout, poll_interval, f"image {task_id}")
        if task.get("status") in ENDED:
            raise GenerationFailedError(task)
        return task

    def stream(self, task_id: str, *, last_event_id: str | None = None) -> Iterator[Event]:
        """The image's progress as it happens (`GET /images/{task_id}/events`, Studio's server-sent events).

        Yields `Event`s: `progress` (`data` is what `get` would return), then one terminal event,
        `completed`, `failed` or `canceled`, after which the iteration ends. Reconnects with
        Last-Event-ID when the connection drops or the server ends a long stream, so each event
        comes once. Pass `last_event_id` to resume from an event seen earlier.
        """
        return follow(self._t, f"/images/{task_id}/events", last_event_id=last_event_id)

    def cancel(self, task_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Cancel an unfinished image; it is refunded. A finished one raises ConflictError."""
        return self._t.request("POST", f"/images/{task_id}/cancel", idempotency_key=idempotency_key)

    def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | None = None,
        team: str | None = None,
    ) -> dict[str, Any]:
        """One page of images, newest first: `{"data": [...], "next_cursor": ..., "has_more": ...}`."""
        params = {"limit": limit, "cursor": cursor, "status": status, "team": team}
        return self._t.request("GET", "/images", params=params)

    def iter_all(
        self, *, limit: int | None = None, status: str | None = None, team: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every image, newest first, fetching pages of `limit` as the iteration needs them."""
        cursor: str | None = None
        while True:
            page = self.list(limit=limit, cursor=cursor, status=status, team=team)
            yield from page.get("data", [])
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return

    def batch_generate(
        self,
        *,
        generations: Sequence[dict[str, Any]],
        webhook_url: str | None = None,
        team: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Submit up to 50 images at once (`POST /images/batch`), all charged or none.

        Unless `wait=False`, waits until every item has finished and returns the batch status
        (`results` with each item's `status`, `task_id`, `image_url`); items that failed are
        reported there (and refunded), not raised. With `wait=False`, the submit reply.
        """
        body = _body({"generations": generations, "webhook_url": webhook_url, "team": team, **extra})
        submitted = self._t.request("POST", "/images/batch", json=body, idempotency_key=idempotency_key)
        if not wait:
            return submitted
        return self.wait_batch(submitted["batch_id"], timeout=timeout)

    def get_batch(self, batch_id: str) -> dict[str, Any]:
        """`GET /images/batch/{batch_id}`."""
        return self._t.request("GET", f"/images/batch/{batch_id}")

    def stream_batch(self, batch_id: str, *, last_event_id: str | None = None) -> Iterator[Event]:
        """The batch's progress as it happens (`GET /images/batch/{batch_id}/events`): `progress`
        events whose `data` is what `get_batch` would return, then `completed` (or `canceled`
        when items were canceled), after which the iteration ends. Reconnects as `stream` does."""
        return follow(self._t, f"/images/batch/{batch_id}/events", last_event_id=last_event_id)

    def cancel_batch(self, batch_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Cancel every unfinished item of a batch (`POST /images/batch/{batch_id}/cancel`); each is
        refunded. Returns the reply (the batch's status with what was canceled). ConflictError when
        nothing was left to cancel."""
        return self._t.request("POST", f"/images/batch/{batch_id}/cancel", idempotency_key=idempotency_key)

    def wait_batch(
        self, batch_id: str, *, timeout: float | None = None, poll_interval: float | None = None
    ) -> dict[str, Any]:
        """Poll until the batch is `completed` (every item finished) and return its status."""
        return self._poll(lambda: self.get_batch(batch_id), timeout, poll_interval, f"batch {batch_id}")

    def _poll(self, fetch: Any, timeout: float | None, poll_interval: float | None, what: str) -> dict[str, Any]:
        """Fetch until the status is no longer `processing`; the delay grows up to `poll_interval`."""
        limit = self._wait_timeout if timeout is None else timeout
        ceiling = self._poll_interval if poll_interval is None else poll_interval
        deadline = time.monotonic() + limit
        delay = min(FIRST_POLL_SECONDS, ceiling)
        while True:
            reply = fetch()
            if reply.get("status") not in ("processing", "queued", None):
                return reply
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"{what} had not finished after {limit:g} s.", code="timeout", body=reply)
            _transport.sleep(min(delay, left))
            delay = min(delay * 2, ceiling)
