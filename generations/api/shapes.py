"""Generations, batches and accounts as `/v1` reply bodies (the shapes in api_schemas)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from accounts.models import User
from generations import forecast, specs, storage
from generations.engines import engine_for_model
from generations.models import Batch, Generation
from generations.outcome import batch_id as _batch_id
from generations.outcome import completed_fields, ended_fields, error_code, error_text, pick, timestamp
from generations.services import BatchCanceled, Submitted


def _seconds(value: float) -> int:
    return max(0, math.ceil(value))


def processing(g: Generation) -> dict[str, Any]:
    ahead = forecast.one(g)
    return {
        "task_id": g.public_id,
        "status": "processing",
        "progress": round(g.progress, 3),
        "estimated_time_remaining": _seconds(ahead.seconds_left),
        "queue_position": ahead.position,
        "model": g.model,
        "seed": g.seed,
        "batch_id": _batch_id(g),
        "created_at": timestamp(g.created_at),
        "negative_prompt": g.negative_prompt,
    }


def completed(g: Generation, base_url: str) -> dict[str, Any]:
    fields = completed_fields(g, base_url)
    return {
        "task_id": g.public_id,
        "status": "completed",
        **pick(fields, "image_url", "image_url_webp", "width", "height", "model", "deep_thinking_used"),
        **pick(fields, "credits_charged", "metadata", "created_at", "seed"),
        "batch_id": _batch_id(g),
        "thumbnail_url": storage.signed_url(g, "thumbnail", base_url=base_url),
        "expires_at": fields["expires_at"],
        "negative_prompt": g.negative_prompt,
    }


def ended(g: Generation) -> dict[str, Any]:
    """Failed or canceled: refunded in full by the service that ended it."""
    fields = ended_fields(g)
    return {
        "task_id": g.public_id,
        "status": g.status,
        **pick(fields, "error", "error_code", "credits_charged", "credits_refunded", "model", "seed"),
        "batch_id": _batch_id(g),
        "created_at": fields["created_at"],
        "negative_prompt": g.negative_prompt,
    }


def image(g: Generation, base_url: str) -> dict[str, Any]:
    """GET /v1/images/{task_id}: the shape for the image's status."""
    if g.status == "processing":
        return processing(g)
    if g.status == "completed":
        return completed(g, base_url)
    return ended(g)


def accepted(submitted: Submitted) -> dict[str, Any]:
    """POST /v1/images/generate."""
    g = submitted.generations[0]
    ahead = forecast.one(g)
    return {
        "task_id": g.public_id,
        "status": "processing",
        "model": g.model,
        "credits_charged": submitted.credits_charged,
        "credits_remaining": submitted.credits_remaining,
        "estimated_time_seconds": _seconds(ahead.seconds_left),
        "seed": g.seed,
        "queue_position": ahead.position,
    }


def batch_accepted(submitted: Submitted) -> dict[str, Any]:
    """POST /v1/images/batch."""
    assert submitted.batch is not None
    return {
        "batch_id": submitted.batch.public_id,
        "status": "processing",
        "total_generations": len(submitted.generations),
        "total_credits_charged": submitted.credits_charged,
        "credits_remaining": submitted.credits_remaining,
        "task_ids": [g.public_id for g in submitted.generations],
    }


def batch_result(g: Generation, base_url: str) -> dict[str, Any]:
    done = g.status == "completed"
    failed = g.status in ("failed", "canceled")
    return {
        "index": g.batch_index,
        "status": g.status,
        "task_id": g.public_id,
        "image_url": storage.signed_url(g, "png", base_url=base_url) if done else None,
        "image_url_webp": storage.signed_url(g, "webp", base_url=base_url) if done else None,
        "error": error_text(g) if failed else None,
        "error_code": error_code(g) if failed else None,
    }


def batch_status(batch: Batch, items: list[Generation], base_url: str) -> dict[str, Any]:
    """GET /v1/images/batch/{batch_id}."""
    counts = Counter(g.status for g in items)
    overall = forecast.batch_progress(batch, items)
    return {
        "batch_id": batch.public_id,
        "status": batch.status,
        "results": [batch_result(g, base_url) for g in items],
        "total_generations": batch.total,
        "counts": {name: counts.get(name, 0) for name in ("completed", "failed", "canceled", "processing")},
        "progress": round(overall.fraction, 3),
        "estimated_time_remaining": _seconds(overall.seconds_left),
        "created_at": timestamp(batch.created_at),
    }


def batch_canceled(
    result: BatchCanceled, items: list[Generation], base_url: str, *, credits_remaining: int
) -> dict[str, Any]:
    """POST /v1/images/batch/{batch_id}/cancel: the batch's status, and what this call canceled and refunded."""
    return {
        **batch_status(result.batch, items, base_url),
        "canceled": len(result.canceled),
        "credits_refunded": result.credits_refunded,
        "credits_remaining": credits_remaining,
    }


def credits(user: User) -> dict[str, Any]:
    limits = user.limits
    return {
        "credits_remaining": user.credits,
        "tier": user.tier,
        "limits": {
            "requests_per_minute": limits.requests_per_minute,
            "concurrent": limits.concurrent,
            "batch_size": limits.batch_size,
            "max_batches_in_progress": specs.MAX_BATCHES_IN_PROGRESS,
        },
    }


def models() -> dict[str, Any]:
    """Every public model id with the engine that serves it, as that engine (with the entry's
    options) describes itself: what it is, the model it really runs, what deep thinking does."""
    data = []
    for model_id, entry in specs.model_catalog().items():
        facts = engine_for_model(model_id).describe()
        data.append(
            {
                "id": model_id,
                "engine": entry["engine"],
                "label": facts["label"],
                "description": facts["description"],
                "neural": facts["neural"],
                "price_credits": specs.PRICE_PER_IMAGE,
                "default": model_id == specs.DEFAULT_MODEL,
                "upstream_model": facts.get("upstream_model"),
                "deep_thinking": facts.get("deep_thinking") or "",
                "exact_text": bool(facts.get("exact_text", False)),
            }
        )
    return {"data": data}
