"""Reads for team review: the queue to review, boards, comment threads and comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import teams
from accounts.models import User
from accounts.permissions import Action
from accounts.teams import Workspace
from generations import selectors
from generations.engines import engine_label
from generations.models import Board, BoardItem, Comment, Generation, ReviewEvent, ReviewStatus, Stage


def review_queue(workspace: Workspace) -> QuerySet[Generation]:
    """Finished images still waiting for a decision, oldest first (the order they came in)."""
    return (
        selectors.workspace_generations(workspace)
        .filter(stage=Stage.COMPLETED, review_status=ReviewStatus.PENDING)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def review_counts(workspace: Workspace) -> dict[str, int]:
    """How many finished images are pending, approved and rejected in the workspace."""
    rows = (
        selectors.workspace_generations(workspace)
        .filter(stage=Stage.COMPLETED)
        .values("review_status")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(ReviewStatus.values, 0)
    counts.update({row["review_status"]: row["n"] for row in rows})
    return counts


def review_history(generation: Generation) -> list[ReviewEvent]:
    return list(generation.review_events.select_related("actor").order_by("-created_at", "-id")[:50])


def comments(generation: Generation) -> list[Comment]:
    return list(generation.comments.select_related("author", "resolved_by").order_by("created_at", "id"))


# --- Boards --------------------------------------------------------------------------------------


def workspace_boards(workspace: Workspace) -> QuerySet[Board]:
    qs = (
        Board.objects.filter(team=workspace.team)
        if workspace.team
        else Board.objects.filter(team__isnull=True, user=workspace.user)
    )
    return qs.annotate(
        size=Count("items", distinct=True),
        approved=Count("items", filter=Q(items__generation__review_status=ReviewStatus.APPROVED), distinct=True),
    ).order_by("name", "id")


def selection_boards(workspace: Workspace, *, exclude: Board | None = None) -> list[Board]:
    """The boards of `workspace` the selection bar can add images to (not `exclude`, the
    board being shown); none for a role that may not change boards (a viewer)."""
    if not workspace.can(Action.EDIT_BOARDS):
        return []
    boards = workspace_boards(workspace)
    return list(boards.exclude(pk=exclude.pk) if exclude else boards)


def boards_with_covers(workspace: Workspace, *, covers: int = 4) -> list[Board]:
    """The workspace's boards, each with up to `covers` of its newest finished images as `cover`."""
    boards = list(workspace_boards(workspace))
    if not boards:
        return boards
    items = (
        BoardItem.objects.filter(board__in=boards, generation__stage=Stage.COMPLETED)
        .select_related("generation")
        .order_by("board_id", "-added_at", "-id")
    )
    by_board: dict[int, list[Generation]] = {}
    for item in items:
        shown = by_board.setdefault(item.board_id, [])
        if len(shown) < covers:
            shown.append(item.generation)
    for board in boards:
        board.cover = by_board.get(board.pk, [])
    return boards


def board_workspace(user: User, board: Board) -> Workspace:
    """The board's workspace with `user`'s role (404 for anyone who may not see it: a
    non-member of its team, or anyone but the owner of a personal board)."""
    if board.team_id is None and board.user_id != user.pk:
        raise Http404("No such board.")
    return teams.workspace_of_team(user, board.team)


def board_for_user(user: User, public_id: str) -> tuple[Board, Workspace]:
    """The board and its workspace with `user`'s role; 404 for anyone who may not see it."""
    board = get_object_or_404(Board.objects.select_related("team", "user"), public_id=public_id)
    return board, board_workspace(user, board)


def board_generations(board: Board, *, review: str | None = None) -> list[Generation]:
    """The board's images, most recently added first, optionally only those with a review status."""
    qs = Generation.objects.filter(board_items__board=board)
    if review:
        qs = qs.filter(review_status=review)
    return list(qs.order_by("-board_items__added_at", "-board_items__id"))


def boards_for_generation(user: User, generation: Generation) -> tuple[list[Board], list[Board]]:
    """(boards the image is on, other boards of its workspace it could be added to)."""
    workspace = selectors.workspace_of(user, generation)
    boards = list(
        workspace_boards(workspace).prefetch_related(
            Prefetch("items", queryset=BoardItem.objects.filter(generation=generation), to_attr="this")
        )
    )
    on: list[Board] = [b for b in boards if b.this]
    others: list[Board] = [b for b in boards if not b.this]
    return on, others


# --- Compare -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    label: str
    left: str
    right: str

    @property
    def same(self) -> bool:
        return self.left == self.right


def _parameters(g: Generation) -> list[tuple[str, Any]]:
    return [
        ("Prompt", g.prompt),
        ("Negative prompt", g.negative_prompt or "none"),
        ("Model", g.model),
        ("Engine", engine_label(g.engine)),
        ("Aspect ratio", g.aspect_ratio),
        ("Size", f"{g.width} \N{MULTIPLICATION SIGN} {g.height}"),
        ("Style", g.style),
        ("Colours", ", ".join(g.colors) or "none"),
        ("Deep thinking", "On" if g.deep_thinking else "Off"),
        ("Seed", str(g.seed)),
        ("Review", g.get_review_status_display()),
        ("Made by", g.user.username if g.user_id else ""),
    ]


def compare(left: Generation, right: Generation) -> list[Difference]:
    """Every parameter of two images side by side; `same` says which rows differ."""
    return [
        Difference(label, str(a), str(b))
        for (label, a), (_, b) in zip(_parameters(left), _parameters(right), strict=True)
    ]
