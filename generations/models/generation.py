"""Generations, batches and what hangs off them. Data and small invariants only."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations import links, specs

if TYPE_CHECKING:
    from accounts.models import ApiKey, Team, User


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
REFUNDED = (Stage.FAILED, Stage.CANCELED)


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
    public_base_url = models.CharField(
        max_length=links.MAX_LENGTH,
        blank=True,
        help_text="Scheme and host of the request that submitted it: where its webhook's links point.",
    )
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
    negative_prompt = models.TextField(blank=True, default="", help_text="What the image should avoid.")
    aspect_ratio = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    style = models.CharField(max_length=specs.STYLE_DESCRIPTION_MAX)
    colors = models.JSONField(default=list, blank=True)
    deep_thinking = models.BooleanField(default=False)
    seed = models.BigIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    webhook_url = models.URLField(max_length=specs.WEBHOOK_URL_MAX_LENGTH, blank=True)
    public_base_url = models.CharField(
        max_length=links.MAX_LENGTH,
        blank=True,
        help_text="Scheme and host of the request that submitted it: where its webhook's links point.",
    )
    embed_parameters = models.BooleanField(
        default=True,
        help_text="Whether the files carry the prompt and parameters (the provenance marking is always there).",
    )

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

    # Not columns: set on the rows a page shows by the views that show them.
    starred: bool
    offline_preview: bool
    can_cancel: bool
    open_comments: int
    eta: float
    queue_position: int | None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="gen_user_recent"),
            models.Index(fields=["team", "-created_at", "-id"], name="gen_team_recent"),
            models.Index(fields=["stage", "enqueued_at"], name="gen_stage_enqueued"),
            models.Index(fields=["stage", "deadline_at"], name="gen_stage_deadline"),
            # The forecast's measured render times: the latest completed renders.
            models.Index(fields=["stage", "-finished_at"], name="gen_stage_finished"),
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
    def credits_refunded(self) -> bool:
        """Whether its credits were given back: a generation that failed or was canceled is
        refunded once, as it ends (`worker.transitions.end_unfinished` -> `ledger.refund`)."""
        return self.stage in REFUNDED

    @property
    def style_preset(self) -> str:
        return specs.style_preset(self.style)

    @classmethod
    def from_spec(
        cls,
        spec: specs.Spec,
        *,
        user: User,
        team: Team | None,
        api_key: ApiKey | None,
        batch: Batch | None,
        index: int | None,
        engine: str,
        deadline: datetime,
        now: datetime,
        public_base_url: str = "",
    ) -> Generation:
        """The unsaved row for `spec`, the one Spec-to-row mapping (`to_spec` maps back).

        A spec without a seed gets a random one; an item of a batch without its own
        webhook URL takes the batch's. Which engine and which deadline are the caller's
        policy, passed in; `public_base_url` is the submitting request's (`links`).
        """
        spec = spec.with_seed()
        assert spec.seed is not None
        return cls(
            user=user,
            team=team,
            api_key=api_key,
            batch=batch,
            batch_index=index,
            model=spec.model,
            engine=engine,
            prompt=spec.prompt,
            negative_prompt=spec.negative_prompt,
            aspect_ratio=spec.aspect_ratio,
            width=spec.width,
            height=spec.height,
            style=spec.style,
            colors=list(spec.colors),
            deep_thinking=spec.deep_thinking,
            seed=spec.seed,
            metadata=spec.metadata,
            webhook_url=spec.webhook_url or (batch.webhook_url if batch is not None else ""),
            public_base_url=links.to_record(public_base_url),
            embed_parameters=user.embed_parameters if spec.embed_parameters is None else spec.embed_parameters,
            credits_charged=spec.price,
            created_at=now,
            enqueued_at=now,
            deadline_at=deadline,
        )

    def to_spec(self) -> specs.Spec:
        return specs.Spec(
            model=self.model,
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            aspect_ratio=self.aspect_ratio,
            style=self.style,
            colors=tuple(self.colors),
            deep_thinking=self.deep_thinking,
            seed=self.seed,
            metadata=self.metadata,
            webhook_url=self.webhook_url,
            embed_parameters=self.embed_parameters,
        )

    def parameters(self) -> dict[str, Any]:
        """Every parameter that made this image, as embedded in the PNG."""
        return {
            "task_id": self.public_id,
            "model": self.model,
            "engine": self.engine,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
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

    def embedded_parameters(self) -> dict[str, Any]:
        """What the files may say: every parameter, or with `embed_parameters` off only facts that
        say nothing of what was asked (no prompt, style description, colours or metadata)."""
        params = self.parameters()
        if self.embed_parameters:
            return params
        kept = ("task_id", "model", "engine", "aspect_ratio", "width", "height", "style_preset", "created_at")
        return {**{key: params[key] for key in kept}, "embed_parameters": False}


class Star(models.Model):
    """A user's star on a generation (per user, so team members star independently)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "generation"], name="star_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.generation}"
