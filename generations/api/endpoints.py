"""The public REST API `/v1`: parse -> service/selector -> shape the reply.

Wire-compatible with the product document (field names, status codes, error codes);
Studio's additions are additive. No business rule lives here: requests are validated by
`specs.build_spec`, changes go through `services`, reads through `selectors`, errors
through the one table in `api_errors`, reply bodies are built by `api_shapes` and
described by `api_schemas` (Django Ninja validates every success reply against them and
generates `/v1/openapi.json` from them, so the document matches what is sent).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, re_path

from accounts import teams
from accounts.typing import ApiRequest
from generations import selectors, services, specs
from generations.api import events, shapes
from generations.api.docs import DESCRIPTION, StudioOpenAPI, documented, list_parameters, streamed
from generations.api.errors import ApiError, door, install, not_found
from generations.api.requests import POLLING_AUTH, BearerAuth, base_url, json_object, once, team_of
from generations.api.schemas import (
    BatchAccepted,
    BatchCanceled,
    BatchRequest,
    BatchStatus,
    CancelResult,
    Credits,
    GenerateAccepted,
    GenerateRequest,
    Image,
    ImagePage,
    ModelList,
)
from generations.models import Batch

LIST_DEFAULT_LIMIT = 20
LIST_MAX_LIMIT = 100


api = StudioOpenAPI(
    title="Studio API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="v1",
    auth=BearerAuth(),
    request_models=(GenerateRequest, BatchRequest),
    openapi_extra={"tags": [{"name": "images"}, {"name": "batches"}, {"name": "account"}, {"name": "models"}]},
)
install(api)


# What either submit endpoint can answer besides the common errors (documented per endpoint).
SUBMIT_ERRORS = (
    "insufficient_credits",
    "invalid_model",
    "invalid_prompt",
    "invalid_aspect_ratio",
    "content_policy",
    "rate_limited",
    "idempotency_key_reused",
    "forbidden",
    "team_not_found",
)


# --- Images ------------------------------------------------------------------------------
# Literal paths are registered before /images/{task_id}, so they are matched first.


@api.post(
    "/images/generate",
    tags=["images"],
    operation_id="generateImage",
    summary="Submit one image",
    **documented(
        GenerateAccepted,
        *SUBMIT_ERRORS,
        body=GenerateRequest,
        idempotent=True,
    ),
)
def generate(request: ApiRequest) -> Any:
    """Charge for and queue one image. Poll `GET /v1/images/{task_id}` or take the webhook."""
    body = json_object(request)

    def work() -> dict[str, Any]:
        spec = specs.build_spec(body, require_model=True)
        team = team_of(request, body.get("team"))
        submitted = services.submit(
            user=request.auth.user, spec=spec, api_key=request.auth, team=team, public_base_url=base_url(request)
        )
        return shapes.accepted(submitted)

    return once(request, "images.generate", body, work)


@api.post(
    "/images/batch",
    tags=["batches"],
    operation_id="generateBatch",
    summary="Submit up to 50 images",
    **documented(
        BatchAccepted,
        "batch_too_large",
        *SUBMIT_ERRORS,
        body=BatchRequest,
        idempotent=True,
    ),
)
def generate_batch(request: ApiRequest) -> Any:
    """Charge for and queue every item, or none. Items not finished in 5 minutes fail and are refunded."""
    body = json_object(request)

    def work() -> dict[str, Any]:
        items = body.get("generations")
        if not isinstance(items, list) or not items:
            raise ApiError("invalid_request", "generations must be a non-empty array of generation requests.")
        user = request.auth.user
        services.check_batch_size(user, len(items))  # before looking at any item
        specs_ = []
        for index, item in enumerate(items):
            try:
                specs_.append(specs.build_spec(item, require_model=True))
            except specs.SpecError as exc:
                where = f"generations[{index}]" + (f".{exc.field}" if exc.field != "body" else "")
                raise specs.SpecError(exc.code, exc.field, f"{where}: {exc.message}") from exc
        webhook_url = specs.clean_webhook_url(body.get("webhook_url"))
        team = team_of(request, body.get("team"))
        submitted = services.submit_batch(
            user=user,
            specs_=specs_,
            webhook_url=webhook_url,
            api_key=request.auth,
            team=team,
            public_base_url=base_url(request),
        )
        return shapes.batch_accepted(submitted)

    return once(request, "images.batch", body, work)


@api.get(
    "/images/batch/{batch_id}",
    tags=["batches"],
    operation_id="getBatch",
    summary="A batch and each item's status",
    auth=POLLING_AUTH,
    **documented(BatchStatus, "not_found"),
)
def get_batch(request: ApiRequest, batch_id: str) -> Any:
    """`completed` once every item has finished; failed items say why and are refunded."""
    batch = selectors.batch_for_user(request.auth.user, batch_id)
    return shapes.batch_status(batch, selectors.batch_items(batch), base_url(request))


@api.post(
    "/images/batch/{batch_id}/cancel",
    tags=["batches"],
    operation_id="cancelBatch",
    summary="Cancel a batch's unfinished images and refund them",
    **documented(BatchCanceled, "not_found", "not_cancelable", "forbidden"),
)
def cancel_batch(request: ApiRequest, batch_id: str) -> Any:
    """Studio addition. Finished items keep their images and charges; a batch with nothing left
    to cancel answers 409 `not_cancelable` (so a second call changes nothing)."""
    user = request.auth.user
    result = services.cancel_batch(user=user, batch=selectors.batch_for_user(user, batch_id))
    user.refresh_from_db(fields=["credits"])
    items = selectors.batch_items(result.batch)
    return shapes.batch_canceled(result, items, base_url(request), credits_remaining=user.credits)


@api.get(
    "/images/batch/{batch_id}/events",
    tags=["batches"],
    operation_id="streamBatch",
    summary="A batch's progress as server-sent events",
    auth=POLLING_AUTH,
    **streamed(
        "`progress` (the batch's status) whenever an item moves on, then `completed` or `canceled`.",
        "not_found",
        events=("progress", "completed", "canceled"),
        data=BatchStatus,
    ),
)
def stream_batch(request: ApiRequest, batch_id: str) -> Any:
    """Studio addition: `GET /v1/images/batch/{batch_id}` pushed as it changes; counted as one status poll."""
    last = events.last_event_id(request.headers.get(events.LAST_EVENT_ID))
    return events.batch_events(
        user=request.auth.user, batch_id=batch_id, base_url=base_url(request), last_event_id=last
    )


@api.get(
    "/images/{task_id}/events",
    tags=["images"],
    operation_id="streamImage",
    summary="An image's progress as server-sent events",
    auth=POLLING_AUTH,
    **streamed(
        "`progress`, then `completed`, `failed` or `canceled`; each carries GET /v1/images/{task_id}'s body.",
        "not_found",
        events=("progress", *events.TERMINAL_IMAGE_EVENTS),
        data=Image,
    ),
)
def stream_image(request: ApiRequest, task_id: str) -> Any:
    """Studio addition: `GET /v1/images/{task_id}` pushed as it changes; counted as one status poll."""
    last = events.last_event_id(request.headers.get(events.LAST_EVENT_ID))
    return events.image_events(user=request.auth.user, task_id=task_id, base_url=base_url(request), last_event_id=last)


@api.get(
    "/images",
    tags=["images"],
    operation_id="listImages",
    summary="Your images, newest first",
    **documented(
        ImagePage, "invalid_limit", "invalid_cursor", "invalid_status", "team_not_found", parameters=list_parameters()
    ),
)
def list_images(request: ApiRequest) -> Any:
    """Cursor-paged: a page never shifts when new images arrive."""
    raw_limit = request.GET.get("limit", str(LIST_DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= LIST_MAX_LIMIT:
        raise ApiError("invalid_limit", f"limit must be an integer from 1 to {LIST_MAX_LIMIT}, not {raw_limit!r}.")
    status = request.GET.get("status")  # present but empty is outside the documented enum too
    if status is not None and status not in selectors.STATUS_FILTERS:
        known = ", ".join(selectors.STATUS_FILTERS)
        raise ApiError("invalid_status", f"status must be one of {known}, not {status!r}.")
    user = request.auth.user
    workspace = teams.workspace_of_team(user, team_of(request, request.GET.get("team")))
    page = selectors.history(
        user, workspace=workspace, limit=limit, cursor=request.GET.get("cursor") or None, status=status
    )
    batch_ids = {g.batch_id for g in page.items if g.batch_id}
    batches = Batch.objects.in_bulk(batch_ids) if batch_ids else {}
    for g in page.items:
        if g.batch_id:
            g.batch = batches[g.batch_id]
    links_base = base_url(request)
    return {
        "data": [shapes.image(g, links_base) for g in page.items],
        "next_cursor": page.next_cursor,
        "has_more": page.next_cursor is not None,
    }


@api.get(
    "/images/{task_id}",
    tags=["images"],
    operation_id="getImage",
    summary="An image's status and, once completed, its links",
    auth=POLLING_AUTH,
    **documented(Image, "not_found"),
)
def get_image(request: ApiRequest, task_id: str) -> Any:
    """`processing` (progress, time left), `completed` (signed links valid 24 h), `failed` or `canceled`."""
    generation = selectors.generation_for_user(request.auth.user, task_id)
    return shapes.image(generation, base_url(request))


@api.post(
    "/images/{task_id}/cancel",
    tags=["images"],
    operation_id="cancelImage",
    summary="Cancel an unfinished image and refund it",
    **documented(CancelResult, "not_found", "not_cancelable"),
)
def cancel_image(request: ApiRequest, task_id: str) -> Any:
    """Studio addition. An image that has already finished answers 409 `not_cancelable`."""
    user = request.auth.user
    generation = services.cancel(user=user, generation=selectors.generation_for_user(user, task_id))
    user.refresh_from_db(fields=["credits"])
    return {**shapes.ended(generation), "credits_remaining": user.credits}


# --- Account and models ------------------------------------------------------------------


@api.get(
    "/account/credits",
    tags=["account"],
    operation_id="getCredits",
    summary="Credits and tier",
    **documented(Credits),
)
def account_credits(request: ApiRequest) -> Any:
    """The balance, the tier, and the tier's limits."""
    return shapes.credits(request.auth.user)


@api.get(
    "/models",
    tags=["models"],
    operation_id="listModels",
    summary="Model ids and the engines behind them",
    **documented(ModelList),
)
def list_models(request: HttpRequest) -> Any:
    """Studio addition: each public model id, the engine serving it, and what that engine really is."""
    return shapes.models()


def urls() -> tuple[list[URLPattern], str, str]:
    """`/v1/` URLs: Django Ninja's, each behind `door`, then a catch-all 404 in the envelope."""
    patterns, app_name, namespace = api.urls
    # Ninja's root view (kept by name: the OpenAPI paths are reversed from it) answers 404 like any unknown path.
    wrapped = []
    for p in patterns:
        assert isinstance(p, URLPattern)  # Ninja's URLs are plain patterns, no include()s
        view = not_found if p.name == "api-root" else p.callback
        wrapped.append(URLPattern(p.pattern, door(view), p.default_args, p.name))
    return [*wrapped, re_path(r"", door(not_found), name="not-found")], app_name, namespace
