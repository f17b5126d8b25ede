"""`SeedanceClient`: the entry point."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from seedance._transport import DEFAULT_BASE_URL, Transport
from seedance.images import Images


class Account:
    """`client.account`."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def credits(self) -> dict[str, Any]:
        """`GET /account/credits`: `credits_remaining`, `tier` (and the tier's limits)."""
        return self._t.request("GET", "/account/credits")


class Models:
    """`client.models`."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(self) -> dict[str, Any]:
        """`GET /models`: `{"data": [{"id": ..., ...}]}`."""
        return self._t.request("GET", "/models")


class SeedanceClient:
    """A client for the Seedream API.

    `api_key` defaults to the SEEDANCE_API_KEY environment variable; `base_url` to
    SEEDANCE_BASE_URL, else the document's https://api.seedance.it.com/v1. `timeout` bounds
    each HTTP request; `wait_timeout` each wait for a result (generate, batch_generate);
    `max_retries` the automatic retries of rate-limited (429, after Retry-After), 5xx and
    unreachable requests.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        wait_timeout: float = 300.0,
        poll_interval: float = 2.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        key = api_key or os.environ.get("SEEDANCE_API_KEY")
        if not key:
            raise ValueError("Pass api_key= or set SEEDANCE_API_KEY.")
        url = base_url or os.environ.get("SEEDANCE_BASE_URL") or DEFAULT_BASE_URL
        self._transport = Transport(
            api_key=key, base_url=url, timeout=timeout, max_retries=max_retries, http_client=http_client
        )
        self.base_url = self._transport.base_url
        self.images = Images(self._transport, wait_timeout=wait_timeout, poll_interval=poll_interval)
        self.account = Account(self._transport)
        self.models = Models(self._transport)

    def download(self, url: str | dict[str, Any], path: str | os.PathLike[str]) -> Path:
        """Save an image to `path` (folders are created); `url` may be a completed image dict.

        Image links are signed, so no key is sent with them. Returns the path written.
        """
        if isinstance(url, dict):
            url = str(url["image_url"])
        response = self._transport.send("GET", url)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        return target

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> SeedanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
