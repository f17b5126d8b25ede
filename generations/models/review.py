"""Team review data: the history of review decisions, comment threads and boards."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations.models.generation import Generation, ReviewStatus, new_public_id


class ReviewEvent(models.Model):
    """One change of an image's review status: who, when, from what to what."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="review_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    to_status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "generations"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.generation} {self.from_status} -> {self.to_status}"


COMMENT_MAX_LENGTH = 2000


class Comment(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "generations"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["generation", "resolved_at"], name="comment_open")]

    def __str__(self) -> str:
        return f"comment on {self.generation} by {self.author}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


def new_board_id() -> str:
    return new_public_id("board")


class Board(models.Model):
    """A named set of images in one workspace (a team's, or `user`'s personal one)."""

    public_id = models.CharField(max_length=40, unique=True, default=new_board_id, editable=False)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="boards")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards", help_text="Who made it."
    )
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    generations = models.ManyToManyField(Generation, through="BoardItem", related_name="boards")

    cover: list[Generation]  # not a column: a few of its images, set by `review.selectors` for the board list

    class Meta:
        app_label = "generations"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="board_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "generations"
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["board", "generation"], name="board_item_once")]

    def __str__(self) -> str:
        return f"{self.generation} on {self.board}"
