"""Generations, batches and what hangs off them. Data and small invariants only."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations import specs


def new_public_id(prefix: str) -> str:
    """`img_…` / `batch_…` in the document's style: 96 random bits, unguessable."""
    return f"{prefix}_{secrets.token_hex(12)}"


def new_image_id() -> str:
    return new_public_id("img")


def new_batch_id() -> str:
    return new_public_id("batch")


class Stage(models.TextChoices):
    """The internal stage. The API's `status` folds queued and rendering into `processing`."""

    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Rendering"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


UNFINISHED = (Stage.QUEUED, Stage.RENDERING)
FINISHED = (Stage.COMPLETED, Stage.FAILED, Stage.CANCELED)


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Batch(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_batch_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batches")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="batches")
    api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    webhook_url = models.URLField(max_length=specs.WEBHOOK_URL_MAX_LENGTH, blank=True)
    total = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    deadline_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.public_id

    @property
    def status(self) -> str:
        return "completed" if self.finished_at else "processing"


class Generation(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_image_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    # The workspace: a team's generation is visible to its members; credits are still the user's.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="generations"
    )
    api_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="generations")
    batch_index = models.PositiveIntegerField(null=True, blank=True)

    # The request, as validated by specs.build_spec.
    model = models.CharField(max_length=100)
    engine = models.CharField(max_length=50, help_text="The engine that served the model when submitted.")
    prompt = models.TextField()
    aspect_ratio = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    style = models.CharField(max_length=specs.STYLE_DESCRIPTION_MAX)
    colors = models.JSONField(default=list, blank=True)
    deep_thinking = models.BooleanField(default=False)
    seed = models.BigIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    webhook_url = models.URLField(max_length=specs.WEBHOOK_URL_MAX_LENGTH, blank=True)

    # Where it is.
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    progress_note = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    credits_charged = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started rendering it.")
    plan = models.JSONField(default=dict, blank=True, help_text="What deep thinking decided, as the engine reported.")
    render_info = models.JSONField(default=dict, blank=True)

    # Files, as names in the default storage.
    image_png = models.CharField(max_length=255, blank=True)
    image_webp = models.CharField(max_length=255, blank=True)
    thumbnail = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(default=timezone.now, help_text="When it was last put on the queue.")
    started_at = models.DateTimeField(null=True, blank=True)
    # A rendering worker touches this every few seconds; a stale one means the worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField()
    render_seconds = models.FloatField(null=True, blank=True, help_text="Engine time of the successful render.")

    # Review, kept on the row so that every gallery filter is one indexed condition;
    # `ReviewEvent` keeps the history of changes.
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="gen_user_recent"),
            models.Index(fields=["team", "-created_at", "-id"], name="gen_team_recent"),
            models.Index(fields=["stage", "enqueued_at"], name="gen_stage_enqueued"),
            models.Index(fields=["stage", "deadline_at"], name="gen_stage_deadline"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def status(self) -> str:
        """The document's status: processing, completed, failed (or canceled)."""
        return "processing" if self.stage in UNFINISHED else self.stage

    @property
    def is_finished(self) -> bool:
        return self.stage in FINISHED

    @property
    def style_preset(self) -> str:
        return specs.style_preset(self.style)

    def to_spec(self) -> specs.Spec:
        return specs.Spec(
            model=self.model,
            prompt=self.prompt,
            aspect_ratio=self.aspect_ratio,
            style=self.style,
            colors=tuple(self.colors),
            deep_thinking=self.deep_thinking,
            seed=self.seed,
            metadata=self.metadata,
            webhook_url=self.webhook_url,
        )

    def parameters(self) -> dict[str, Any]:
        """Every parameter that made this image, as embedded in the PNG."""
        return {
            "task_id": self.public_id,
            "model": self.model,
            "engine": self.engine,
            "prompt": self.prompt,
            "aspect_ratio": self.aspect_ratio,
            "width": self.width,
            "height": self.height,
            "style": self.style,
            "style_preset": self.style_preset,
            "colors": list(self.colors),
            "deep_thinking": self.deep_thinking,
            "seed": self.seed,
            "metadata": self.metadata,
            "created_at": self.created_at.isoformat(),
        }


class IdempotencyRecord(models.Model):
    """The first reply to a POST sent with an `Idempotency-Key`, kept for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key", "endpoint"], name="idempotency_once_per_key")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class Star(models.Model):
    """A user's star on a generation (per user, so team members star independently)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "generation"], name="star_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.generation}"


def new_export_id() -> str:
    return new_public_id("zip")


class Export(models.Model):
    """A ZIP of many images, built by a worker when a selection is too large to stream."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=40, unique=True, default=new_export_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    # Generation pks in the order chosen; a generation deleted meanwhile is skipped.
    generation_ids = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=255, blank=True, help_text="Storage name of the finished ZIP.")
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.public_id

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.READY, self.State.FAILED)


# --- Webhooks -------------------------------------------------------------------------------


def new_message_id() -> str:
    """A delivery's public id, sent as `webhook-id`: the same on every retry and resend."""
    return new_public_id("msg")


class WebhookSecret(models.Model):
    """An account's webhook signing secret, encrypted at rest (see generations.webhook_signing).

    After a rotation the previous secret still signs, beside the new one, until
    `previous_expires_at`, so receivers can switch over without dropping events.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_secret")
    encrypted = models.TextField()
    previous_encrypted = models.TextField(blank=True)
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"webhook secret of {self.user}"

    def previous_is_active(self, at: Any = None) -> bool:
        at = at or timezone.now()
        return bool(self.previous_encrypted and self.previous_expires_at and self.previous_expires_at > at)


class WebhookEvent(models.TextChoices):
    IMAGE_COMPLETED = "image.completed", "image.completed"
    IMAGE_FAILED = "image.failed", "image.failed"
    BATCH_COMPLETED = "batch.completed", "batch.completed"


class WebhookDelivery(models.Model):
    """One event for one URL, and where its delivery stands.

    `body` is the exact JSON sent, built once when the event happened: every attempt
    and every resend sends these bytes, so a signature over them always verifies.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=40, unique=True, default=new_message_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_deliveries")
    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    # The subject's public id, kept when the generation or batch is deleted.
    subject_id = models.CharField(max_length=40, blank=True)
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    url = models.URLField(max_length=specs.WEBHOOK_URL_MAX_LENGTH)
    body = models.TextField(help_text="The exact JSON sent (ASCII only), signed as is.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0, help_text="Attempts ever made, resends included.")
    schedule_step = models.PositiveIntegerField(
        default=0, help_text="Attempts made since the retry schedule (re)started."
    )
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt is due; empty once finished."
    )
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A worker is attempting it until then.")
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When a task for it was last queued.")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="webhook_user_recent"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event}"

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode("ascii")


class WebhookAttempt(models.Model):
    """One POST of a delivery (or one refused before anything was sent)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first 1 KiB of the response body.")

    class Meta:
        ordering = ["-attempted_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")]

    def __str__(self) -> str:
        return f"{self.delivery.public_id} #{self.number}"


# Review data (reviews, comments, boards) lives in its own module; importing it here
# registers its models with the app.
from generations.models_review import Board, BoardItem, Comment, ReviewEvent  # noqa: E402, F401
