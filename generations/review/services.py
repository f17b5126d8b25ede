"""Team review: review decisions, comment threads and boards. Everything here changes state.

Each function takes the acting user and checks, on the server, that the user may see
the thing (Http404 otherwise) and that their role in its workspace allows the change
(`accounts.permissions.Forbidden`, a 403, otherwise). Reads live in `review_selectors`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action
from accounts.teams import Workspace
from generations import selectors
from generations.models import Board, BoardItem, Comment, Generation, ReviewEvent, ReviewStatus, Stage
from generations.models.review import COMMENT_MAX_LENGTH
from generations.review.selectors import board_workspace

BOARD_NAME_MAX_LENGTH = 80


class ReviewError(ValueError):
    """A change that cannot be made as asked (shown as a form error)."""


def _workspace(user: User, generation: Generation, action: Action) -> Workspace:
    workspace = selectors.workspace_of(user, generation)
    workspace.require(action)
    return workspace


# --- Review decisions --------------------------------------------------------------------------


def set_review(*, user: User, generation: Generation, status: str) -> Generation:
    """Approve, reject or return `generation` to pending, recording who did it and when."""
    if status not in ReviewStatus.values:
        raise ReviewError(f"Review status must be one of {', '.join(ReviewStatus.values)}.")
    _workspace(user, generation, Action.REVIEW)
    if generation.stage != Stage.COMPLETED and status != ReviewStatus.PENDING:
        raise ReviewError("Only a finished image can be approved or rejected.")
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.review_status != status:
            now = timezone.now()
            ReviewEvent.objects.create(
                generation=locked, actor=user, from_status=locked.review_status, to_status=status, created_at=now
            )
            locked.review_status = status
            locked.reviewed_by = user if status != ReviewStatus.PENDING else None
            locked.reviewed_at = now if status != ReviewStatus.PENDING else None
            locked.save(update_fields=["review_status", "reviewed_by", "reviewed_at"])
    return locked


# --- Comments ----------------------------------------------------------------------------------


def add_comment(*, user: User, generation: Generation, body: str) -> Comment:
    _workspace(user, generation, Action.COMMENT)
    body = body.strip()
    if not body:
        raise ReviewError("Write something first.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise ReviewError(f"A comment is at most {COMMENT_MAX_LENGTH} characters ({len(body)} given).")
    return Comment.objects.create(generation=generation, author=user, body=body)


def comment_for_user(user: User, comment_id: int) -> Comment:
    comment = get_object_or_404(Comment.objects.select_related("generation__team"), pk=comment_id)
    selectors.generation_for_user(user, comment.generation.public_id)  # 404 unless visible
    return comment


def set_resolved(*, user: User, comment: Comment, resolved: bool) -> Comment:
    """Resolve a comment (or open it again); any member who may comment may do either."""
    _workspace(user, comment.generation, Action.COMMENT)
    comment.resolved_at = timezone.now() if resolved else None
    comment.resolved_by = user if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by"])
    return comment


# --- Boards ------------------------------------------------------------------------------------


def _clean_board_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ReviewError("Give the board a name.")
    if len(name) > BOARD_NAME_MAX_LENGTH:
        raise ReviewError(f"A board name is at most {BOARD_NAME_MAX_LENGTH} characters.")
    return name


def create_board(*, workspace: Workspace, name: str) -> Board:
    workspace.require(Action.EDIT_BOARDS)
    return Board.objects.create(team=workspace.team, user=workspace.user, name=_clean_board_name(name))


def rename_board(*, user: User, board: Board, name: str) -> Board:
    board_workspace(user, board).require(Action.EDIT_BOARDS)
    board.name = _clean_board_name(name)
    board.save(update_fields=["name"])
    return board


def delete_board(*, user: User, board: Board) -> None:
    """The board goes; its images stay where they are."""
    board_workspace(user, board).require(Action.EDIT_BOARDS)
    board.delete()


def add_to_board(*, user: User, board: Board, generations: Sequence[Generation]) -> int:
    """Put images on a board (those of other workspaces are skipped). Returns how many were added."""
    board_workspace(user, board).require(Action.EDIT_BOARDS)
    same_place = [g for g in generations if g.team_id == board.team_id and (board.team_id or g.user_id == user.pk)]
    present = set(board.items.filter(generation__in=same_place).values_list("generation_id", flat=True))
    fresh = [BoardItem(board=board, generation=g, added_by=user) for g in same_place if g.pk not in present]
    BoardItem.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def remove_from_board(*, user: User, board: Board, generations: Sequence[Generation]) -> int:
    board_workspace(user, board).require(Action.EDIT_BOARDS)
    return board.items.filter(generation__in=[g.pk for g in generations]).delete()[0]
