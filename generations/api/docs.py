"""What `/v1/openapi.json` says beyond the schemas: errors, headers, bodies, the contract.

Django Ninja generates paths and reply schemas from the endpoints; this module adds
what it cannot know: each endpoint's error codes (from the one table in `api_errors`),
the X-RateLimit-* and Retry-After headers, the request bodies (parsed by
`specs.build_spec`, described by `api_schemas`) and the API description.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ninja import NinjaAPI
from pydantic import BaseModel, TypeAdapter

from accounts import ratelimit
from accounts.tiers import LIMITS
from generations import specs
from generations.api.errors import ERRORS
from generations.api.schemas import ErrorEnvelope

# Every endpoint behind the key can answer these.
COMMON_ERRORS = ("invalid_api_key", "rate_limited", "server_error", "service_unavailable")
BODY_ERRORS = ("invalid_json", "invalid_request", "request_too_large")
IDEMPOTENCY_ERRORS = ("invalid_idempotency_key", "idempotency_in_progress")
# On every reply to an authenticated request (see `api_errors.door`).
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Scope")
# On a submit's 429 for what is in flight (see `api_errors`), beside the per-minute ones.
CONCURRENCY_HEADERS = ("X-Concurrency-Limit", "X-Concurrency-In-Flight")
SUBMITTING = ("generateImage", "generateBatch")

HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed per minute on the account's tier (for status polls: their own allowance).",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Scope": {
        "description": "Which allowance counted this request: `requests` (the tier's requests per minute) or "
        "`polling` (GET of one image or batch, which has its own, larger allowance).",
        "schema": {"type": "string", "enum": ["requests", "polling"]},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current minute, after this one.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time (seconds since the epoch, UTC) at which the current one-minute window "
        "ends and the count starts again. Windows are fixed and aligned to the minute.",
        "schema": {"type": "integer"},
    },
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
    "X-Concurrency-Limit": {
        "description": "On a 429 for what is in flight (not for the minute's requests): how many images or "
        "batches the tier may have unfinished at once.",
        "schema": {"type": "integer"},
    },
    "X-Concurrency-In-Flight": {
        "description": "On a 429 for what is in flight: how many the account has unfinished now (each "
        "unfinished batch counts as one).",
        "schema": {"type": "integer"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored reply to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def _tier_table() -> str:
    rows = [
        f"| {tier.title()} | {lim.requests_per_minute} | {lim.concurrent} | {lim.batch_size} |"
        for tier, lim in LIMITS.items()
    ]
    return "| Tier | Requests/Minute | Concurrent | Batch Size |\n|---|---|---|---|\n" + "\n".join(rows)


def _error_table() -> str:
    rows = [f"| `{e.code}` | {e.status} | {e.description} |" for e in ERRORS.values()]
    return "| Code | Status | Meaning |\n|---|---|---|\n" + "\n".join(rows)


DESCRIPTION = f"""
Studio's image generation API, wire-compatible with the Seedream 5.0 Lite API document:
code written for that API works here with only the base URL (`…/v1`) and the key changed.

**Authentication.** `Authorization: Bearer YOUR_API_KEY` on every call (keys are created in
the studio under Settings > API Keys, or with `manage.py createapikey`). This page and
`/v1/openapi.json` are public.

**Asynchronous.** `POST /v1/images/generate` answers at once with a `task_id`; poll
`GET /v1/images/{{task_id}}` until `status` is `completed` (or `failed` / `canceled`), or take
the webhook. Image links are absolute, signed, and valid for 24 hours.
Or hold one request open: `GET /v1/images/{{task_id}}/events` (and `…/batch/{{batch_id}}/events`)
sends the same bodies as server-sent events (`progress`, then `completed`, `failed` or
`canceled`), resumable with `Last-Event-ID`.

**Errors.** Every error, whatever the cause, has the body
`{{"error": {{"code": "…", "message": "…", "status": 400}}}}` and the same HTTP status.
A rejected request charges nothing and creates nothing.

{_error_table()}

**Rate limits.** Per account, across every server process:

{_tier_table()}

Every reply to a request with a valid key carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`
and `X-RateLimit-Reset` (Unix seconds when the current minute ends); a 401 has no account,
so it has none. Over the limit: 429 `rate_limited` with `Retry-After` (seconds).
Status polls (`GET /v1/images/{{task_id}}` and `GET /v1/images/batch/{{batch_id}}`) count
against their own allowance of {ratelimit.POLLING_PER_REQUEST} times the tier's requests per
minute (at least {ratelimit.POLLING_MINIMUM}), so a client polling every 2 seconds until its
image is done never spends the requests that submit work; `X-RateLimit-Scope` says which
allowance a reply reports. The tier's concurrent allowance counts each single image in
progress and each unfinished batch (whatever its size) as one; a submit refused for what is
in flight answers 429 `rate_limited` with `X-Concurrency-Limit` and `X-Concurrency-In-Flight`
(the X-RateLimit-* headers still report the minute, which is not what refused it). At most
{specs.MAX_BATCHES_IN_PROGRESS} batches in progress; a batch's items not finished within
{specs.BATCH_TIMEOUT_SECONDS // 60} minutes fail and are refunded.

**Idempotency.** Send `Idempotency-Key: <any unique string>` with either POST: the same key
with the same body within 24 hours returns the first reply (with `Idempotent-Replayed: true`)
and charges once, even when both arrive at the same time; the same key with a different
body answers 409 `idempotency_key_reused`.
""".strip()


def list_parameters() -> list[dict[str, Any]]:
    """The query parameters of GET /v1/images (parsed by the view itself)."""
    return [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "`next_cursor` of the previous page.",
            "schema": {"type": "string"},
        },
        {
            "name": "status",
            "in": "query",
            "required": False,
            "description": "Only images with this status.",
            "schema": {"type": "string", "enum": ["processing", "completed", "failed", "canceled"]},
        },
        {
            "name": "team",
            "in": "query",
            "required": False,
            "description": "A team's id (`team_…`): that team's images instead of your personal ones.",
            "schema": {"type": "string"},
        },
    ]


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (1-255 printable ASCII). The same key and body within 24 h returns the "
    "first reply and charges once.",
    # What idempotency.clean_key accepts: printable ASCII, at least one character that is not a space.
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]*[!-~][ -~]*$"},
}


def documented(
    ok: Any,
    *codes: str,
    body: type[BaseModel] | None = None,
    idempotent: bool = False,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`response=` and `openapi_extra=` for an endpoint that can answer `codes` (plus the common ones)."""
    every = [*codes, *COMMON_ERRORS]
    if body is not None:
        every += BODY_ERRORS
    if idempotent:
        every += IDEMPOTENCY_ERRORS
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in dict.fromkeys(every):
        by_status[ERRORS[code].status].append(code)
    response: dict[int, Any] = {200: ok, **{status: ErrorEnvelope for status in sorted(by_status)}}
    extra: dict[str, Any] = {
        "responses": {
            status: {"description": "Error codes: " + ", ".join(f"`{c}` ({ERRORS[c].description})" for c in names)}
            for status, names in by_status.items()
        }
    }
    params = list(parameters or [])
    if idempotent:
        params.append(IDEMPOTENCY_HEADER)
    if params:
        extra["parameters"] = params
    if body is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}},
        }
    return {"response": response, "openapi_extra": extra}


LAST_EVENT_ID_HEADER = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "The `id:` of the last event received (EventSource sends it when it reconnects): only newer "
    "states are sent.",
    "schema": {"type": "string", "pattern": "^[0-9]{1,30}$"},
}


def sse_event(names: tuple[str, ...], data: Any) -> dict[str, Any]:
    """One server-sent event, as SSE clients (and OpenAPI 3.2's `itemSchema`) read it: its `event`
    name, its `id` and its `data`, a JSON document of the `data` model (a pydantic type)."""
    if isinstance(data, type) and issubclass(data, BaseModel):
        body = {"$ref": f"#/components/schemas/{data.__name__}"}
    else:  # a union such as schemas.Image: its members are components already
        body = TypeAdapter(data).json_schema(ref_template="#/components/schemas/{model}")
        body.pop("$defs", None)
    return {
        "type": "object",
        "properties": {
            "event": {"type": "string", "enum": list(names)},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "retry": {"type": "integer", "minimum": 0},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": body},
        },
        "required": ["event", "id", "data"],
    }


def streamed(what: str, *codes: str, events: tuple[str, ...] = (), data: Any = None) -> dict[str, Any]:
    """`documented` for a server-sent events endpoint: its 200 is `text/event-stream`, and 204
    means that the stream's terminal event was already delivered (per Last-Event-ID).

    The 200's schema describes each event (`events` are their names, `data` the model of their
    JSON), which is how OpenAPI 3.1 tools such as Schemathesis read a `text/event-stream` schema."""
    spec = documented(None, *codes, "invalid_last_event_id", "too_many_streams", parameters=[LAST_EVENT_ID_HEADER])
    del spec["response"][200]
    responses = spec["openapi_extra"]["responses"]
    event = sse_event(events, data) if data is not None else {"type": "object"}
    responses[200] = {
        "description": f"Server-sent events. {what} Every event has an `id:` that only grows; `: keep-alive` "
        "comments come between events; the stream ends after its terminal event, or after a few minutes "
        "(reconnect with Last-Event-ID). It starts with a `retry:` hint in milliseconds.",
        "content": {"text/event-stream": {"schema": event}},
    }
    responses[204] = {"description": "No Content: Last-Event-ID is the stream's terminal event, or later."}
    return spec


class StudioOpenAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document also carries request bodies and reply headers."""

    def __init__(self, *, request_models: tuple[type[BaseModel], ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request_models = request_models

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema["components"]
        for model in self.request_models:
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components["schemas"].update(definition.pop("$defs", {}))
            components["schemas"][model.__name__] = definition
        components["headers"] = HEADERS
        rate = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_HEADERS}
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "security" not in operation:
                    continue  # the public documentation endpoints
                for status, reply in operation["responses"].items():
                    if int(status) == 401:
                        continue
                    reply["headers"] = dict(rate)
                    if int(status) in (429, 503):
                        reply["headers"]["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
                    if int(status) == 429 and operation.get("operationId") in SUBMITTING:
                        for name in CONCURRENCY_HEADERS:
                            reply["headers"][name] = {"$ref": f"#/components/headers/{name}"}
                    if int(status) == 200 and any(p["name"] == "Idempotency-Key" for p in operation["parameters"]):
                        reply["headers"]["Idempotent-Replayed"] = {"$ref": "#/components/headers/Idempotent-Replayed"}
        _add_links(schema)
        return schema


# Where the id in a submission's reply is used next, as OpenAPI links: for readers of the document,
# and for Schemathesis' stateful phase, which follows them (tests/test_fuzz_api.py).
LINKS: dict[str, dict[str, tuple[str, str]]] = {
    "generateImage": {
        target: ("task_id", "$response.body#/task_id") for target in ("getImage", "cancelImage", "streamImage")
    },
    "generateBatch": {
        **{target: ("batch_id", "$response.body#/batch_id") for target in ("getBatch", "cancelBatch", "streamBatch")},
        "getImage": ("task_id", "$response.body#/task_ids/0"),
    },
}


def _add_links(schema: dict[str, Any]) -> None:
    operations = {op.get("operationId"): op for ops in schema["paths"].values() for op in ops.values()}
    for source, targets in LINKS.items():
        if source not in operations:
            continue
        operations[source]["responses"][200]["links"] = {
            target: {"operationId": target, "parameters": {name: value}}
            for target, (name, value) in targets.items()
            if target in operations
        }
