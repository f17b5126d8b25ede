"""Webhooks: signing secrets, deliveries and their attempts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations import specs
from generations.models.generation import Batch, Generation, new_public_id


def new_message_id() -> str:
    """A delivery's public id, sent as `webhook-id`: the same on every retry and resend."""
    return new_public_id("msg")


class WebhookSecret(models.Model):
    """An account's webhook signing secret, encrypted at rest (see generations.webhooks.signing).

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

    # Not columns: set for the deliveries page by `webhooks.events.for_display`.
    pretty_body: str
    poll: bool
    label: str

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
