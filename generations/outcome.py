"""A generation's outcome as both the `/v1` replies and the webhook bodies state it.

`api.shapes` and `webhooks.events` build their bodies from these pieces, so the two
surfaces cannot drift: one timestamp format, one error text for a generation that failed
or was canceled, one expiry for its links (on the clock the links are checked against),
and one set of the fields an image result carries. Each surface keeps its own key order
and its own extra fields; this module imports neither of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from generations import storage
from generations.models import Generation


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with whole seconds and a Z, as the document writes `created_at`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_canceled(g: Generation) -> bool:
    return g.status == "canceled"


def error_text(g: Generation) -> str:
    """What went wrong, for a failed or canceled generation."""
    return g.error_message or ("The generation was canceled." if is_canceled(g) else "Generation failed.")


def error_code(g: Generation) -> str:
    return g.error_code or ("canceled" if is_canceled(g) else "generation_failed")


def links_expire_at() -> str:
    """When a link signed now stops working."""
    return timestamp(datetime.fromtimestamp(int(storage.now()) + settings.STUDIO_LINK_TTL_SECONDS, UTC))


def batch_id(g: Generation) -> str | None:
    return g.batch.public_id if g.batch_id and g.batch is not None else None


def completed_fields(g: Generation, base_url: str) -> dict[str, Any]:
    """The fields of a completed image that the API reply and the webhook body both carry."""
    return {
        "image_url": storage.signed_url(g, "png", base_url=base_url),
        "image_url_webp": storage.signed_url(g, "webp", base_url=base_url),
        "width": g.width,
        "height": g.height,
        "model": g.model,
        "deep_thinking_used": g.deep_thinking,
        "credits_charged": g.credits_charged,
        "metadata": g.metadata,
        "created_at": timestamp(g.created_at),
        "seed": g.seed,
        "expires_at": links_expire_at(),
    }


def ended_fields(g: Generation) -> dict[str, Any]:
    """The fields of a failed or canceled image (refunded in full) that both surfaces carry."""
    return {
        "error": error_text(g),
        "error_code": error_code(g),
        "credits_charged": g.credits_charged,
        "credits_refunded": g.credits_charged,
        "model": g.model,
        "seed": g.seed,
        "created_at": timestamp(g.created_at),
    }


def pick(fields: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Some of `fields`, in the order a surface writes them."""
    return {key: fields[key] for key in keys}
