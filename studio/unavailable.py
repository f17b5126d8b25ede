"""Pages answer 503 with Retry-After, quickly, when the database does not answer in time.

A query that waits past the busy timeout (SQLite) or `lock_timeout` / `connect_timeout`
(PostgreSQL; `DB_BUSY_TIMEOUT` in the settings) raises `django.db.OperationalError`.
Without this, a studio page would show Django's 500 for it; `/v1` has its own envelope
for the same case (503 `service_unavailable`, in `generations.api.errors`), so its paths
are left alone here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis.exceptions
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse

log = logging.getLogger("studio.unavailable")
# What a part Studio depends on raises when it does not answer in time: the database
# (locked, unreachable) or Redis as the cache (down, refusing the connection, timing out).
UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
RETRY_AFTER_SECONDS = 3
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Studio is busy</title>
<meta http-equiv="refresh" content="{seconds}"></head>
<body><h1>Studio is busy</h1>
<p>The database or the cache did not answer in time. This page tries again in {seconds} seconds.</p></body></html>
"""


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNAVAILABLE) or (request.path + "/").startswith("/v1/"):
            return None
        log.warning("%s %s answered 503: %s", request.method, request.path, exception)
        response = HttpResponse(
            PAGE.format(seconds=RETRY_AFTER_SECONDS), status=503, content_type="text/html; charset=utf-8"
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
