"""Every `/v1` error, in one table, with the product document's envelope.

`{"error": {"code": ..., "message": ..., "status": ...}}` is the only error body the API
sends: for validation, malformed JSON, unknown ids and paths (404), wrong methods (405),
missing keys (401), limits (429), unexpected failures (500) and a database that does not
answer in time (503, with Retry-After: locked, or refusing connections). `ERRORS` lists every
code with its status; `EXCEPTIONS` maps the domain's exceptions to codes. `door` wraps
each `/v1` URL so that even what happens outside Django Ninja's own handlers (its root
view, the 405 it answers itself) leaves in the same envelope, and so every reply to an
authenticated account carries the X-RateLimit-* headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import redis.exceptions
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from accounts import ratelimit
from accounts.auth import InvalidApiKey, bearer_token
from accounts.ledger import InsufficientCredits
from accounts.permissions import Forbidden
from accounts.ratelimit import RateLimitExceeded
from accounts.services import authenticate_api_key
from generations.api import idempotency
from generations.services import BatchTooLarge, NotCancelable, RateLimited
from generations.specs import SpecError
from studio.paging import BadCursor

log = logging.getLogger("generations.api.endpoints")
JSON = "application/json; charset=utf-8"
RETRY_AFTER_UNAVAILABLE = 3  # seconds, on a 503 `service_unavailable`
UNAVAILABLE_MESSAGE = (
    "The database or the cache is busy or unreachable and did not answer in time. Retry after the Retry-After seconds."
)


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    description: str
    in_document: bool = False  # one of the product document's nine codes


ERRORS: dict[str, ErrorCode] = {
    e.code: e
    for e in (
        # The product document's table, in its order.
        ErrorCode("invalid_api_key", 401, "API key missing, malformed, invalid or revoked", True),
        ErrorCode("insufficient_credits", 402, "Not enough credits", True),
        ErrorCode("invalid_model", 400, "Model identifier not recognized", True),
        ErrorCode("invalid_prompt", 400, "Prompt empty or too long (max 1000 characters)", True),
        ErrorCode("invalid_aspect_ratio", 400, "Aspect ratio not supported", True),
        ErrorCode("rate_limited", 429, "Too many requests (per minute, in flight, or batches); see Retry-After", True),
        ErrorCode("content_policy", 400, "Prompt violates policy", True),
        ErrorCode(
            "generation_failed",
            500,
            "Internal generation error: reported as a failed image's `error_code` (GET answers 200 "
            "with status `failed`, so polling loops end); retry the request",
            True,
        ),
        ErrorCode("batch_too_large", 400, "Batch exceeds 50 items, or the tier's batch size", True),
        # Studio's additions.
        ErrorCode("invalid_negative_prompt", 400, "negative_prompt is not a string of at most 1000 characters"),
        ErrorCode("invalid_style", 400, "style is not a preset or a short description"),
        ErrorCode("invalid_colors", 400, "colors is not an array of up to 8 hex codes"),
        ErrorCode("invalid_deep_thinking", 400, "deep_thinking is not a boolean"),
        ErrorCode("invalid_seed", 400, "seed is not an integer from 0 to 4294967295"),
        ErrorCode("invalid_metadata", 400, "metadata is not an object of at most 8 KB"),
        ErrorCode("invalid_webhook_url", 400, "webhook_url is not an absolute http(s) URL"),
        ErrorCode("invalid_json", 400, "The body is not valid JSON"),
        ErrorCode("invalid_request", 400, "The body is not the expected JSON object (the message names the field)"),
        ErrorCode("invalid_limit", 400, "Query parameter limit is not an integer from 1 to 100"),
        ErrorCode("invalid_cursor", 400, "Query parameter cursor is not a next_cursor this API gave"),
        ErrorCode("invalid_status", 400, "Query parameter status is not processing, completed, failed or canceled"),
        ErrorCode("invalid_idempotency_key", 400, "Idempotency-Key is not 1-255 printable ASCII characters"),
        ErrorCode("invalid_last_event_id", 400, "Last-Event-ID is not the id of an event the stream sent (digits)"),
        ErrorCode("forbidden", 403, "Your role in the team does not allow this (viewers cannot generate)"),
        ErrorCode("not_found", 404, "No such image, batch or path for this API key"),
        ErrorCode("team_not_found", 404, "team is not the id of a team this API key's user belongs to"),
        ErrorCode("method_not_allowed", 405, "The path exists but not for this method; see the Allow header"),
        ErrorCode("idempotency_key_reused", 409, "The Idempotency-Key was used with a different body"),
        ErrorCode("idempotency_in_progress", 409, "The first request with this Idempotency-Key is still running"),
        ErrorCode("not_cancelable", 409, "The image has already finished, or the batch has nothing left to cancel"),
        ErrorCode("request_too_large", 413, "The request body is too large"),
        ErrorCode(
            "too_many_streams",
            429,
            "This server process already serves its most event streams at once; see Retry-After, or poll meanwhile",
        ),
        ErrorCode("server_error", 500, "Unexpected server error; retry the request"),
        ErrorCode(
            "service_unavailable",
            503,
            "The database is busy (locked) or unreachable; retry after Retry-After seconds",
        ),
    )
}

# Domain exceptions -> code. SpecError and ApiError carry their own code.
EXCEPTIONS: dict[type[Exception], str] = {
    # Locked past the busy timeout / lock_timeout, or no connection: the transaction it was in
    # rolled back. A POST is retried safely with the same Idempotency-Key.
    OperationalError: "service_unavailable",
    # Redis (the cache: rate-limit counters, worker beats) down or refusing: the same.
    redis.exceptions.ConnectionError: "service_unavailable",
    redis.exceptions.TimeoutError: "service_unavailable",
    InvalidApiKey: "invalid_api_key",
    AuthenticationError: "invalid_api_key",
    InsufficientCredits: "insufficient_credits",
    BatchTooLarge: "batch_too_large",
    RateLimited: "rate_limited",
    RateLimitExceeded: "rate_limited",
    NotCancelable: "not_cancelable",
    Forbidden: "forbidden",
    Http404: "not_found",
    BadCursor: "invalid_cursor",
    idempotency.InvalidKey: "invalid_idempotency_key",
    idempotency.KeyReused: "idempotency_key_reused",
    idempotency.InProgress: "idempotency_in_progress",
    RequestDataTooBig: "request_too_large",
}


@dataclass
class ApiError(Exception):
    """An error reply: the code from `ERRORS` decides the status."""

    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return ERRORS[self.code].status

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}

    def response(self) -> HttpResponse:
        response = JsonResponse(self.body(), status=self.status, content_type=JSON)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _validation_message(exc: NinjaValidationError) -> str:
    parts = []
    for error in exc.errors[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "payload"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "The request is not valid."


CONCURRENCY_LIMIT = "X-Concurrency-Limit"


def to_api_error(exc: Exception) -> ApiError:
    """The reply for any exception; unknown ones become 500 `server_error`."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, SpecError):
        return ApiError(exc.code if exc.code in ERRORS else "invalid_request", exc.message)
    if isinstance(exc, NinjaValidationError):
        return ApiError("invalid_request", _validation_message(exc))
    for cls in type(exc).__mro__:
        code = EXCEPTIONS.get(cls)
        if code is None:
            continue
        headers = {}
        if code == "invalid_api_key":
            headers["WWW-Authenticate"] = 'Bearer realm="studio"'
        if code == "rate_limited":
            headers["Retry-After"] = str(int(getattr(exc, "retry_after", 5)))
            if getattr(exc, "limit", None) is not None:  # in flight, not per minute: headers of its own
                headers[CONCURRENCY_LIMIT] = str(exc.limit)  # type: ignore[attr-defined]
                headers["X-Concurrency-In-Flight"] = str(exc.in_flight)  # type: ignore[attr-defined]
        if code == "service_unavailable":
            headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
            return ApiError(code, UNAVAILABLE_MESSAGE, headers)
        message = str(exc) or ERRORS[code].description
        if isinstance(exc, Http404) and not str(exc):
            message = "Not found."
        return ApiError(code, message, headers)
    if isinstance(exc, HttpError):  # raised by Django Ninja itself, e.g. an unreadable body
        code = "invalid_request" if exc.status_code < 500 else "server_error"
        return ApiError(code, str(exc))
    return ApiError("server_error", "An unexpected error occurred on the server. Retry the request.")


def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Django Ninja's exception handler for every exception type."""
    error = to_api_error(exc)
    if error.code == "service_unavailable":  # expected under load or maintenance: one line, no traceback
        log.warning("/v1 %s %s answered 503: %s: %s", request.method, request.path, type(exc).__name__, exc)
    elif error.status >= 500:
        log.error("/v1 %s %s failed", request.method, request.path, exc_info=exc)
    return error.response()


def install(api: Any) -> None:
    """Route every exception Django Ninja catches through `handle`."""
    for exc_class in (Exception, Http404, HttpError, NinjaValidationError):
        api.add_exception_handler(exc_class, handle)


def door(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a `/v1` URL's view: envelope for 405s and stray exceptions, rate-limit headers."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Exception as exc:
            response = handle(request, exc)
        if isinstance(response, HttpResponseNotAllowed):
            allow = response["Allow"]
            response = ApiError(
                "method_not_allowed", f"{request.method} is not allowed on {request.path}; use {allow}."
            ).response()
            response["Allow"] = allow
        window = getattr(request, "rate_window", None)
        if window is None and response.status_code in (404, 405):
            window = _count_unrouted(request)
        if window is not None:
            for name, value in window.headers().items():
                response[name] = value
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # Bearer keys, not cookies
    return wrapped


def _count_unrouted(request: HttpRequest) -> ratelimit.Window | None:
    """A request that reached no endpoint (405, unknown path) still counts for a valid key's account,
    and its reply carries the same X-RateLimit-* headers as any other; without a valid key, nothing."""
    try:
        key = authenticate_api_key(bearer_token(request.headers.get("Authorization")))
    except InvalidApiKey:
        return None
    return ratelimit.hit(key.user) if key is not None else None


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under /v1 that names no endpoint."""
    return ApiError("not_found", f"No endpoint {request.path}. See /v1/docs for the API reference.").response()
