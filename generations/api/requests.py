"""What every `/v1` endpoint does with a request before the service: the Bearer key and the
allowance it counts against, the JSON body, the `team` parameter, the base of the reply's
links, and Idempotency-Key replays."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse

from accounts import ratelimit, teams
from accounts.auth import ApiKeyAuth
from accounts.models import ApiKey, Team
from accounts.typing import ApiRequest
from generations import links
from generations.api import idempotency
from generations.api.errors import JSON, ApiError, to_api_error


class BearerAuth(ApiKeyAuth):
    """The Bearer key, then the account's per-minute allowance (counted for every call).

    `scope` says which allowance: the tier's requests per minute, or the larger one for
    status polls (`ratelimit.POLLING`). Both are this one class, so OpenAPI shows one scheme.
    """

    def __init__(self, scope: str = ratelimit.REQUESTS) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key = super().authenticate(request, token)
        # The window is kept on the request so that `door` puts the X-RateLimit-* headers on any reply.
        # Ninja authenticates the very request object that the endpoint then gets.
        api_request = cast(ApiRequest, request)
        try:
            api_request.rate_window = ratelimit.check(key.user, self.scope)
        except ratelimit.RateLimitExceeded as exc:
            api_request.rate_window = exc.window
            raise
        return key


# Status polls count against their own, larger allowance (see accounts.ratelimit.POLLING).
POLLING_AUTH = BearerAuth(scope=ratelimit.POLLING)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, whatever the Content-Type said. Strict JSON: no NaN or Infinity."""
    try:
        body = json.loads(request.body or b"", parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError("invalid_json", f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(body, dict):
        raise ApiError("invalid_request", "The request body must be a JSON object.")
    return body


def team_of(request: ApiRequest, raw: Any) -> Team | None:
    """The team named by a request's `team` (a body field or query parameter), or None for personal."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ApiError("invalid_request", "team must be a team id string such as 'team_1a2b3c4d5e6f7a8b'.")
    try:
        return teams.workspace_for(request.auth.user, raw).team
    except Http404 as exc:
        raise ApiError("team_not_found", f"team {raw!r} is not a team you belong to.") from exc


def base_url(request: HttpRequest) -> str:
    """Where this reply's links start; a submission records it for its webhook's links."""
    return links.request_base_url(request)


def once(request: ApiRequest, endpoint: str, body: dict[str, Any], work: Callable[[], dict[str, Any]]) -> Any:
    """Run `work` once per Idempotency-Key (when one is sent); replay the first reply."""
    raw_key = request.headers.get("Idempotency-Key")
    if raw_key is None:
        return work()
    key = idempotency.clean_key(raw_key)
    claimed = idempotency.claim(
        user=request.auth.user, key=key, endpoint=endpoint, request_hash=idempotency.fingerprint(body)
    )
    if isinstance(claimed, idempotency.Replay):
        response = JsonResponse(claimed.body, status=claimed.status, content_type=JSON)
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        with transaction.atomic():  # the work and its stored reply commit together
            payload = work()
            claimed.save(200, payload)
    except Exception as exc:
        error = to_api_error(exc)
        try:
            if error.status == 400:  # decided by the body alone: the same body gets the same answer
                claimed.save(error.status, error.body())
            else:  # may succeed later (credits, limits, a server fault): free the key
                claimed.release()
        except idempotency.InProgress:
            pass
        raise
    return payload
