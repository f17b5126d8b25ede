"""`{% share_panel g %}`: the image page's "Share link" form, with the expiry choices."""

from __future__ import annotations

from typing import Any

from django import template

from generations import sharing
from generations.models import Generation

register = template.Library()


@register.inclusion_tag("generations/partials/share_link.html", takes_context=True)
def share_panel(context: template.Context, generation: Generation) -> dict[str, Any]:
    return {
        "g": generation,
        "csrf_token": context.get("csrf_token"),
        "share_choices": sharing.CHOICES_DAYS,
        "share_default": sharing.default_days(),
    }
