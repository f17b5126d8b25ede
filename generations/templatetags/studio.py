"""Template helpers for the studio pages."""

from __future__ import annotations

from django import template

from generations import storage
from generations.models import Generation

register = template.Library()


@register.filter
def file_url(generation: Generation, kind: str) -> str:
    """A signed link to one of a completed generation's files ("png", "webp", "thumbnail")."""
    return storage.signed_url(generation, kind)


@register.filter
def duration(seconds: float | None) -> str:
    """1.234 -> "1.2 s", 75 -> "1 min 15 s"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


@register.filter
def percent(fraction: float | None) -> int:
    return round((fraction or 0) * 100)


@register.filter
def eta(seconds: float | None) -> str:
    """The time left as " · about 4 s left" or " · about 3 min left"; nothing when too long to be useful."""
    if seconds is None or seconds <= 0 or seconds > 3600:
        return ""
    if seconds < 60:
        return f" · about {max(1, round(seconds))} s left"
    return f" · about {round(seconds / 60)} min left"
