"""The API's Idempotency-Key replies."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# The document keeps an Idempotency-Key's reply for 24 hours.
TTL = timedelta(hours=24)


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

    @classmethod
    def delete_expired(cls) -> int:
        """Delete records older than 24 hours; how many went."""
        return cls.objects.filter(created_at__lt=timezone.now() - TTL).delete()[0]
