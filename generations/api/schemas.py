"""The `/v1` wire format as pydantic models: what the OpenAPI document shows.

Success replies are validated through these models on the way out (Django Ninja does
that for every declared response), so the served document and the replies cannot drift
apart. Field order follows the product document; Studio's additions come after the
document's fields. Requests are parsed by `specs.build_spec`, the single source of the
rules; the request models here only describe them for the document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field

from accounts.tiers import Tier
from generations import specs

Timestamp = Annotated[
    str,
    Field(
        description="ISO 8601, UTC, whole seconds, with a Z.",
        examples=["2026-04-10T14:30:00Z"],
        json_schema_extra={"format": "date-time"},
    ),
]
TaskId = Annotated[str, Field(description="The image's id, `img_…`.", examples=["img_abc123def456"])]
BatchId = Annotated[str, Field(description="The batch's id, `batch_…`.", examples=["batch_xyz789"])]
Seed = Annotated[int, Field(ge=0, le=specs.SEED_MAX, description="The seed used; send it back to reproduce.")]
Metadata = Annotated[dict[str, Any], Field(description="Your metadata, returned as sent.")]
NegativePrompt = Annotated[
    str, Field(description='Studio addition: what the image should avoid, as sent ("" for none).', examples=[""])
]
# Enums built from the rules at import time, so the document lists the values; a type checker sees `str`.
if TYPE_CHECKING:
    AspectRatio = str
    TierName = str
else:
    AspectRatio = Literal[tuple(specs.ASPECT_RATIOS)]
    TierName = Literal[tuple(Tier.values)]


# --- Errors ------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code (see the table in the API description).")
    message: str = Field(description="What went wrong, for a person.")
    status: int = Field(description="The HTTP status, repeated.")


class ErrorEnvelope(BaseModel):
    """Every error under /v1 has this body."""

    error: ErrorDetail


# --- Requests (described here, validated by specs.build_spec) ----------------------------

NOT_BLANK = r"\S"  # specs.build_spec strips the prompt and refuses what is left empty
# What specs.clean_webhook_url accepts: "" (none), or http(s), any case, with a host.
WEBHOOK_URL = r"^([hH][tT][tT][pP][sS]?://[^/?#]+[\s\S]*)?$"


class GenerateRequest(BaseModel):
    model: str = Field(
        min_length=1, description="Model identifier (see GET /v1/models).", examples=[specs.DEFAULT_MODEL]
    )
    prompt: str = Field(
        min_length=1,
        max_length=specs.PROMPT_MAX_LENGTH,
        pattern=NOT_BLANK,
        description="Text description (max 1000 characters, not only spaces).",
    )
    # null, like an omitted field, means the default (specs.build_spec reads them so).
    aspect_ratio: AspectRatio | None = Field(
        specs.DEFAULT_ASPECT_RATIO,
        description="Output aspect ratio: "
        + ", ".join(f"{ratio} ({w}x{h})" for ratio, (w, h) in specs.ASPECT_RATIOS.items())
        + ".",
    )
    deep_thinking: bool | None = Field(False, description="Enable deep thinking mode (no extra credits).")
    style: str | None = Field(
        specs.DEFAULT_STYLE,
        max_length=specs.STYLE_DESCRIPTION_MAX,
        description="A preset (" + ", ".join(specs.STYLES) + ") or a short description.",
    )
    colors: list[Annotated[str, Field(pattern=specs.HEX_COLOR.pattern)]] | None = Field(
        None, max_length=specs.MAX_COLORS, description="Colour palette as hex codes, e.g. ['#ff6600', '#003366']."
    )
    seed: int | None = Field(
        None, ge=0, le=specs.SEED_MAX, description="Studio addition: a fixed seed reproduces an image."
    )
    negative_prompt: str | None = Field(
        None,
        max_length=specs.NEGATIVE_PROMPT_MAX_LENGTH,
        description="Studio addition: what the image should avoid (max 1000 characters). Sent to engines that "
        "take one (diffusers); recorded with the image for every engine.",
    )
    webhook_url: str | None = Field(
        None,
        max_length=specs.WEBHOOK_URL_MAX_LENGTH,
        pattern=WEBHOOK_URL,
        description="URL for the completion notification (absolute, http or https).",
    )
    metadata: dict[str, Any] | None = Field(None, description="Custom metadata (returned with results), max 8 KB.")
    team: str | None = Field(
        None,
        description="Studio addition: a team's id (`team_…`) to generate into; you must be its editor or owner. "
        "The team's members see the image; the credits are yours.",
    )
    embed_parameters: bool | None = Field(
        None,
        description="Studio addition: false leaves the prompt and parameters out of the image files (the PNG's "
        "`parameters` and JSON chunks, the WebP's XMP); the Content Credentials and the IPTC digital source type "
        "stay. Omitted: the account's setting (Settings, Privacy), on by default.",
    )


class BatchRequest(BaseModel):
    generations: list[GenerateRequest] = Field(
        min_length=1, max_length=specs.BATCH_MAX_ITEMS, description="1 to 50 generations (fewer on smaller tiers)."
    )
    webhook_url: str | None = Field(
        None,
        max_length=specs.WEBHOOK_URL_MAX_LENGTH,
        pattern=WEBHOOK_URL,
        description="Applies to every generation that sets none of its own.",
    )
    team: str | None = Field(
        None, description="Studio addition: a team's id (`team_…`) to generate the whole batch into."
    )


# --- Account and models ------------------------------------------------------------------


class Limits(BaseModel):
    requests_per_minute: int
    concurrent: int = Field(description="Single generations in progress at once.")
    batch_size: int = Field(description="Generations per batch on this tier.")
    max_batches_in_progress: int = specs.MAX_BATCHES_IN_PROGRESS


class Credits(BaseModel):
    credits_remaining: int
    tier: TierName
    limits: Limits = Field(description="Studio addition: this tier's limits.")


class ModelInfo(BaseModel):
    id: str = Field(examples=[specs.DEFAULT_MODEL])
    engine: str = Field(description="The engine that serves this model id on this server.")
    label: str
    description: str = Field(description="What the engine really is.")
    neural: bool = Field(description="Whether the engine is a neural image model.")
    price_credits: int = Field(description="Credits per image.")
    default: bool = Field(description="The model a request without `model` would get in the studio.")
    upstream_model: str | None = Field(
        description="The model the engine really runs: the upstream id it sends as `model` (ark, openai), the "
        "local diffusers folder's model, or null for an engine that is no model (typeset)."
    )
    deep_thinking: str = Field(description="What `deep_thinking: true` does with this model, in a sentence.")
    exact_text: bool = Field(
        default=False, description="Quoted text is drawn exactly by Studio's typesetter over the engine's picture."
    )


class ModelList(BaseModel):
    data: list[ModelInfo]


# --- Images ------------------------------------------------------------------------------


class GenerateAccepted(BaseModel):
    task_id: TaskId
    status: Literal["processing"]
    model: str
    credits_charged: int
    credits_remaining: int
    estimated_time_seconds: int = Field(
        description="Seconds to completion: the queue ahead of it played forward over the render workers, at measured render times."
    )
    seed: Seed
    queue_position: int | None = Field(description="1 = next in line; null once a worker has it.")


class ImageProcessing(BaseModel):
    task_id: TaskId
    status: Literal["processing"]
    progress: float = Field(ge=0, le=1, description="0 to 1.")
    estimated_time_remaining: int = Field(
        description="Seconds left: from its progress while rendering, else from the queue ahead and measured render times."
    )
    queue_position: int | None = Field(description="1 = next in line; null once a worker has it.")
    model: str
    seed: Seed
    batch_id: BatchId | None
    created_at: Timestamp
    negative_prompt: NegativePrompt


class ImageCompleted(BaseModel):
    task_id: TaskId
    status: Literal["completed"]
    image_url: str = Field(description="Absolute, signed PNG link, valid 24 hours.")
    image_url_webp: str = Field(description="Absolute, signed WebP link, valid 24 hours.")
    width: int
    height: int
    model: str
    deep_thinking_used: bool
    credits_charged: int
    metadata: Metadata
    created_at: Timestamp
    seed: Seed
    batch_id: BatchId | None
    thumbnail_url: str = Field(description="Absolute, signed WebP thumbnail link (384 px), valid 24 hours.")
    expires_at: Timestamp = Field(description="When the three links stop working.")
    negative_prompt: NegativePrompt


class _Ended(BaseModel):
    task_id: TaskId
    error: str = Field(description="What went wrong, for a person.")
    error_code: str = Field(description="`generation_failed` when the engine failed or timed out; `canceled`.")
    credits_charged: int
    credits_refunded: int = Field(description="Failed and canceled images are refunded in full.")
    model: str
    seed: Seed
    batch_id: BatchId | None
    created_at: Timestamp
    negative_prompt: NegativePrompt


class ImageFailed(_Ended):
    status: Literal["failed"]


class ImageCanceled(_Ended):
    status: Literal["canceled"]


Image = Annotated[ImageProcessing | ImageCompleted | ImageFailed | ImageCanceled, Field(discriminator="status")]


class CancelResult(ImageCanceled):
    credits_remaining: int


class ImagePage(BaseModel):
    data: list[Image]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    has_more: bool


# --- Batches -----------------------------------------------------------------------------


class BatchAccepted(BaseModel):
    batch_id: BatchId
    status: Literal["processing"]
    total_generations: int
    total_credits_charged: int
    credits_remaining: int
    task_ids: list[TaskId] = Field(description="Studio addition: each item's task_id, in request order.")


class BatchResult(BaseModel):
    index: int
    status: Literal["processing", "completed", "failed", "canceled"]
    task_id: TaskId
    image_url: str | None = Field(description="Signed PNG link once completed, else null.")
    image_url_webp: str | None = Field(description="Signed WebP link once completed, else null.")
    error: str | None = Field(description="Why a failed or canceled item ended, else null.")
    error_code: str | None


class BatchCounts(BaseModel):
    completed: int
    failed: int
    canceled: int
    processing: int


class BatchStatus(BaseModel):
    batch_id: BatchId
    status: Literal["processing", "completed"] = Field(description="`completed` once every item has finished.")
    results: list[BatchResult]
    total_generations: int
    counts: BatchCounts
    progress: float = Field(
        ge=0,
        le=1,
        description="Studio addition: the batch as a whole, 0..1 (finished images whole, rendering ones by their progress).",
    )
    estimated_time_remaining: int = Field(
        description="Studio addition: seconds until the last image finishes, from the queue ahead and measured render times."
    )
    created_at: Timestamp


class BatchCanceled(BatchStatus):
    canceled: int = Field(description="How many items this call canceled (each refunded in full).")
    credits_refunded: int = Field(description="Credits this call gave back, to whoever submitted the batch.")
    credits_remaining: int = Field(description="The caller's balance after the refunds.")
