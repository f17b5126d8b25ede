"""Everything that reads generations for a page or an endpoint.

Visibility lives here: a selector returns only what the user may see, and
`generation_for_user` raises Http404 for anyone else's (404, not 403: an id that
exists is not confirmed to a stranger).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import teams
from accounts.models import Membership, User
from accounts.permissions import Action, allows
from accounts.teams import Workspace
from generations import search
from generations.models import UNFINISHED, Batch, Comment, Generation, Stage, Star
from studio.paging import BadCursor as BadCursor  # re-exported: callers catch it from here
from studio.paging import keyset_page
from studio.prepared import Prepared

RowT = TypeVar("RowT", bound=Model)


def _visible_to(user: User | int) -> Q:
    """The visibility rule of generations and batches: the user's (a user or their id) personal ones and their teams'."""
    return Q(user=user, team__isnull=True) | Q(team__in=teams.team_ids_for(user))


def _get_or_404(rows: QuerySet[RowT], message: str, **lookups: Any) -> RowT:
    """`get_object_or_404`, with the message a `/v1` `not_found` reply shows."""
    try:
        return get_object_or_404(rows, **lookups)
    except Http404:
        raise Http404(message) from None


def visible_generations(user: User) -> QuerySet[Generation]:
    """The user's personal generations and those of every team they are a member of."""
    return Generation.objects.filter(_visible_to(user))


def workspace_generations(workspace: Workspace) -> QuerySet[Generation]:
    """What the workspace's gallery holds: a team's generations, or the user's personal ones."""
    if workspace.team is not None:
        return Generation.objects.filter(team=workspace.team)
    return Generation.objects.filter(user=workspace.user, team__isnull=True)


# Every poll of GET /v1/images/{task_id} reads one image: compiled once (see studio.prepared).
_VISIBLE_GENERATION = Prepared(
    lambda user_id, public_id: Generation.objects.filter(_visible_to(user_id), public_id=public_id).select_related(
        "batch", "team"
    )[:1],
    "int",
    "text",
)


def generation_for_user(user: User, public_id: str) -> Generation:
    """The image `public_id` if `user` may see it (`_visible_to`'s rule); Http404 if not."""
    generation = _VISIBLE_GENERATION.first(user.pk, public_id)
    if generation is None:
        raise Http404(f"No image with task_id {public_id!r}.")
    return generation


def workspace_of(user: User, generation: Generation) -> Workspace:
    """The workspace `generation` lives in, with `user`'s role there (404 for a non-member, and
    for anyone else's personal image: a personal workspace has one member)."""
    if generation.team_id is None and generation.user_id != user.pk:
        raise Http404(f"No image with task_id {generation.public_id!r}.")
    return teams.workspace_of_team(user, generation.team)


def batch_for_user(user: User, public_id: str) -> Batch:
    return _get_or_404(
        Batch.objects.filter(_visible_to(user)), f"No batch with batch_id {public_id!r}.", public_id=public_id
    )


def batches_in_progress(workspace: Workspace, *, limit: int) -> list[Batch]:
    """The workspace's unfinished batches, newest first."""
    if workspace.team is not None:
        rows = Batch.objects.filter(team=workspace.team)
    else:
        rows = Batch.objects.filter(user=workspace.user, team__isnull=True)
    return list(rows.filter(finished_at__isnull=True).order_by("-created_at", "-pk")[:limit])


def batch_items(batch: Batch) -> list[Generation]:
    return list(batch.generations.order_by("batch_index"))


@dataclass(frozen=True)
class Page:
    items: list[Generation]
    next_cursor: str | None


STATUS_FILTERS = {
    "processing": Q(stage__in=UNFINISHED),
    "completed": Q(stage=Stage.COMPLETED),
    "failed": Q(stage=Stage.FAILED),
    "canceled": Q(stage=Stage.CANCELED),
}


def history(
    user: User,
    *,
    workspace: Workspace | None = None,
    limit: int = 50,
    cursor: str | None = None,
    status: str | None = None,
    query: str | None = None,
    style: str | None = None,
    aspect_ratio: str | None = None,
    starred: bool = False,
    review: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page:
    """A workspace's generations (the user's personal ones by default), newest first,
    keyset-paged: a page never shifts when new images arrive, because the cursor names
    the last row seen, not an offset. `query` keeps those whose prompt has each of its
    words as the start of a word (`search.matching`, answered from the full-text index)."""
    space = workspace or teams.personal(user)
    qs = workspace_generations(space)
    if space.team is not None:
        qs = qs.select_related("user")  # a team's tiles name who made each image
    if status:
        qs = qs.filter(STATUS_FILTERS[status])
    if query:
        qs = search.matching(qs, query)
    if style:
        qs = qs.filter(style=style)
    if aspect_ratio:
        qs = qs.filter(aspect_ratio=aspect_ratio)
    if review:
        qs = qs.filter(review_status=review)
    if starred:
        qs = qs.filter(Exists(Star.objects.filter(user=user, generation=OuterRef("pk"))))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    items, next_cursor = keyset_page(qs, cursor, limit)
    return Page(items=items, next_cursor=next_cursor)


def is_starred(user: User, generation: Generation) -> bool:
    return Star.objects.filter(user=user, generation=generation).exists()


def starred_ids(user: User, generations: list[Generation]) -> set[int]:
    """The pks among `generations` that `user` has starred (one query for a whole page)."""
    if not generations:
        return set()
    return set(
        Star.objects.filter(user=user, generation__in=[g.pk for g in generations]).values_list(
            "generation_id", flat=True
        )
    )


def neighbours(user: User, generation: Generation) -> tuple[Generation | None, Generation | None]:
    """(newer, older): the images either side of `generation` in its workspace's history."""
    qs = workspace_generations(workspace_of(user, generation)).only("public_id", "prompt", "created_at")
    when, pk = generation.created_at, generation.pk
    newer = qs.filter(Q(created_at__gt=when) | Q(created_at=when, pk__gt=pk)).order_by("created_at", "pk").first()
    older = qs.filter(Q(created_at__lt=when) | Q(created_at=when, pk__lt=pk)).order_by("-created_at", "-pk").first()
    return newer, older


def generations_for_user(user: User, public_ids: list[str]) -> list[Generation]:
    """The generations among `public_ids` that the user may see, newest first; others' ids are dropped."""
    if not public_ids:
        return []
    return list(
        visible_generations(user).select_related("team").filter(public_id__in=public_ids).order_by("-created_at", "-pk")
    )


def open_comment_counts(generations: list[Generation]) -> dict[int, int]:
    """Unresolved comments per generation pk, for a page of tiles (one query)."""
    if not generations:
        return {}
    rows = (
        Comment.objects.filter(generation__in=[g.pk for g in generations], resolved_at__isnull=True)
        .values("generation_id")
        .annotate(n=Count("id"))
    )
    return {row["generation_id"]: row["n"] for row in rows}


def allowed(user: User, generations: Sequence[Generation], action: Action) -> list[Generation]:
    """Those of `generations` on which `user` may take `action` in their workspace (one query)."""
    team_ids = {g.team_id for g in generations if g.team_id is not None}
    roles = dict(Membership.objects.filter(user=user, team_id__in=team_ids).values_list("team_id", "role"))
    return [
        g for g in generations if (g.user_id == user.pk if g.team_id is None else allows(roles.get(g.team_id), action))
    ]


def recent_prompts(workspace: Workspace, *, limit: int = 15) -> list[str]:
    """The workspace's latest distinct prompts, most recent first: the prompt box's history."""
    seen: dict[str, None] = {}
    rows = workspace_generations(workspace).order_by("-created_at", "-id").values_list("prompt", flat=True)
    for prompt in rows[: limit * 10].iterator():
        seen.setdefault(prompt, None)
        if len(seen) >= limit:
            break
    return list(seen)
