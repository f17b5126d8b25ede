"""HTTP with the document's retry strategy: Retry-After on 429, exponential backoff on faults.

Every POST carries an `Idempotency-Key` (a uuid4 unless the caller gives one) that stays the
same across the retries of one call, so a retried submit can never charge twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from seedance.errors import (
    APIConnectionError,
    APIError,
    ConflictError,
    RateLimitError,
    SeedanceError,
    error_from_response,
)

VERSION = "0.1.0"
DEFAULT_BASE_URL = "https://api.seedance.it.com/v1"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0


def sleep(seconds: float) -> None:
    """Every wait of the package goes through here (tests replace it)."""
    time.sleep(seconds)


def backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s, ... capped at 8 s."""
    return min(BACKOFF_MAX, BACKOFF_BASE * (2**attempt))


def _retry_delay(error: SeedanceError, attempt: int) -> float | None:
    """How long to wait before retrying after `error`, or None if it is not worth retrying."""
    if isinstance(error, RateLimitError):
        return error.retry_after if error.retry_after is not None else backoff(attempt)
    if isinstance(error, APIError) and error.status in RETRY_STATUSES:
        return backoff(attempt)
    if isinstance(error, ConflictError) and error.code == "idempotency_in_progress":
        return backoff(attempt)  # the first try of this very call is still running on the server
    return None


class Transport:
    """One httpx.Client, the key, the base URL and the retry policy."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float,
        max_retries: int,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.max_retries = max(0, int(max_retries))
        self._owns_client = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self._user_agent = f"seedance-python/{VERSION}"

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Call the API at `path` (relative to the base URL) and return the decoded JSON reply."""
        headers = self._auth({"Accept": "application/json"})
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self.send(method, f"{self.base_url}/{path.lstrip('/')}", headers=headers, json=json, params=query)
        return response.json()

    def _auth(self, headers: dict[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", **headers}

    @contextmanager
    def stream(self, method: str, path: str, *, headers: dict[str, str] | None = None) -> Iterator[httpx.Response]:
        """A 2xx response at `path` whose body is read as it arrives (closed on leaving the block).

        Opening it is retried as `send` retries; reading it is the caller's business.
        """
        url = f"{self.base_url}/{path.lstrip('/')}"
        response = self.send(method, url, headers=self._auth(headers or {}), stream=True)
        try:
            yield response
        finally:
            response.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise the typed error.

        With `stream=True` the body of a 2xx response is left unread (the caller closes it).
        """
        all_headers = {"User-Agent": self._user_agent, **(headers or {})}
        attempt = 0
        while True:
            try:
                request = self._http.build_request(method, url, headers=all_headers, json=json, params=params)
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise APIConnectionError(f"Could not reach {url}: {exc}", code="connection_error") from exc
                sleep(backoff(attempt))
                attempt += 1
                continue
            if response.is_success:
                return response
            if stream:
                response.read()
                response.close()
            error = error_from_response(response)
            delay = _retry_delay(error, attempt)
            if delay is None or attempt >= self.max_retries:
                raise error
            sleep(delay)
            attempt += 1
