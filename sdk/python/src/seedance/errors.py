"""Typed errors built from the API's envelope: `{"error": {"code", "message", "status"}}`."""

from __future__ import annotations

from typing import Any

import httpx


class SeedanceError(Exception):
    """Base of every error this package raises. `code`, `message` and `status` come from the envelope."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else httpx.Headers()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class AuthenticationError(SeedanceError):
    """401 `invalid_api_key`: the key is missing, invalid or revoked."""


class InsufficientCreditsError(SeedanceError):
    """402 `insufficient_credits`."""


class InvalidRequestError(SeedanceError):
    """A 4xx not covered by a narrower class (400 `invalid_prompt`, `invalid_model`, ...)."""


class PermissionDeniedError(InvalidRequestError):
    """403 `forbidden`: the key's role in the team does not allow this."""


class ConflictError(InvalidRequestError):
    """409: `not_cancelable`, `idempotency_key_reused`, `idempotency_in_progress`."""


class NotFoundError(SeedanceError):
    """404 `not_found`: no such image, batch or path for this key."""


class RateLimitError(SeedanceError):
    """429 `rate_limited`. `retry_after` is the Retry-After header in seconds (None if absent)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class APIError(SeedanceError):
    """A 5xx from the API (after the automatic retries)."""


class APIConnectionError(SeedanceError):
    """The API could not be reached (after the automatic retries)."""


class GenerationFailedError(SeedanceError):
    """A task ended `failed` (or `canceled`); `task` is its last reply, `code` its `error_code`."""

    def __init__(self, task: dict[str, Any]) -> None:
        super().__init__(
            str(task.get("error") or "Generation failed."),
            code=str(task.get("error_code") or "generation_failed"),
            body=task,
        )
        self.task = task


class WaitTimeoutError(SeedanceError, TimeoutError):
    """The task or batch had not finished when the wait's timeout ran out."""


class WebhookVerificationError(SeedanceError):
    """A webhook's signature or timestamp did not verify."""


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds: a number (the API's form) or an HTTP date."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime
    from time import time

    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time())
    except (TypeError, ValueError):
        return None


def error_from_response(response: httpx.Response) -> SeedanceError:
    """The typed error for a non-2xx reply."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict):
        code = str(envelope.get("code") or "")
        message = str(envelope.get("message") or "")
    else:
        code, message = "", ""
    message = message or response.text[:500] or f"HTTP {status}"
    kwargs: dict[str, Any] = {"code": code or None, "status": status, "body": body, "headers": response.headers}
    if status == 429:
        return RateLimitError(message, retry_after=retry_after_seconds(response.headers), **kwargs)
    cls: type[SeedanceError]
    if status == 401:
        cls = AuthenticationError
    elif status == 402:
        cls = InsufficientCreditsError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status >= 500:
        cls = APIError
    elif status >= 400:
        cls = InvalidRequestError
    else:
        cls = SeedanceError
    return cls(message, **kwargs)
