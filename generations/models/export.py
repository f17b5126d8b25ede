"""ZIP exports built by a worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from generations.models.generation import new_public_id


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
