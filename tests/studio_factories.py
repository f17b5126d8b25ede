"""Builders for the studio page tests: generations in any stage, with real files when completed."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from PIL import Image

from accounts.models import User
from generations import specs, storage
from generations.models import Generation, Stage

_tick = itertools.count(1)


def make_generation(
    user: User,
    *,
    prompt: str = "A serene mountain landscape at sunrise",
    stage: str = Stage.COMPLETED,
    aspect_ratio: str = "1:1",
    style: str = "auto",
    colors: list[str] | None = None,
    deep_thinking: bool = False,
    seed: int = 42,
    created_at: datetime | None = None,
    files: bool = True,
    **extra: Any,
) -> Generation:
    """A generation row as the pipeline leaves it; a completed one gets real PNG/WebP/thumbnail files.

    Rows are spaced a second apart (newest last) unless `created_at` is given, so the
    history's order is the order of creation.
    """
    width, height = specs.ASPECT_RATIOS[aspect_ratio]
    now = timezone.now()
    created = created_at or now - timedelta(days=1) + timedelta(seconds=next(_tick))
    finished = stage in (Stage.COMPLETED, Stage.FAILED, Stage.CANCELED)
    g = Generation.objects.create(
        user=user,
        model=extra.pop("model", "seedream-5.0-lite"),
        engine="fake",
        prompt=prompt,
        aspect_ratio=aspect_ratio,
        width=width,
        height=height,
        style=style,
        colors=colors or [],
        deep_thinking=deep_thinking,
        seed=seed,
        stage=stage,
        progress=1.0 if stage == Stage.COMPLETED else extra.pop("progress", 0.0),
        credits_charged=7,
        created_at=created,
        enqueued_at=created,
        started_at=extra.pop("started_at", created + timedelta(seconds=1) if stage != Stage.QUEUED else None),
        finished_at=extra.pop("finished_at", created + timedelta(seconds=3) if finished else None),
        deadline_at=now + timedelta(hours=1),
        render_seconds=1.5 if stage == Stage.COMPLETED else None,
        **extra,
    )
    if stage == Stage.COMPLETED and files:
        colour = (colors or ["#336699"])[0]
        # Small pixels keep tests fast; the PNG's size is the spec's (the download test checks it).
        image = Image.new("RGB", (width, height), colour)
        names = storage.save_images(g, image, g.parameters())
        g.image_png, g.image_webp, g.thumbnail = names["png"], names["webp"], names["thumbnail"]
        g.file_size = names["png_size"]
        g.save(update_fields=["image_png", "image_webp", "thumbnail", "file_size"])
    return g


def make_team(owner: User, name: str = "Poster Crew", **members: str) -> Any:
    """A team owned by `owner`, with `members` as username=role (the users must exist)."""
    from accounts import teams
    from accounts.models import Membership

    team = teams.create_team(user=owner, name=name)
    for username, role in members.items():
        Membership.objects.create(team=team, user=User.objects.get(username=username), role=role)
    return team
