"""Users, the credits ledger and API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from accounts.tiers import Tier, TierLimits, limits_for


class User(AbstractUser):
    """A Studio user. `credits` is the balance; only `accounts.ledger` changes it."""

    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.FREE)
    credits = models.IntegerField(default=0, editable=False)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(credits__gte=0), name="user_credits_not_negative")]

    @property
    def limits(self) -> TierLimits:
        return limits_for(self.tier)


class LedgerEntry(models.Model):
    """One change of a balance. Entries of a user always sum to `User.credits`."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", "Signup grant"
        GRANT = "grant", "Admin grant"
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.IntegerField(help_text="Positive adds credits, negative takes them.")
    balance_after = models.IntegerField()
    generation = models.ForeignKey(
        "generations.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="ledger_entries"
    )
    # Kept when the generation row is deleted, so the ledger still says what was paid for.
    generation_public_id = models.CharField(max_length=40, blank=True, db_index=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # A generation is charged at most once and refunded at most once.
            models.UniqueConstraint(
                fields=["generation_public_id", "kind"],
                condition=models.Q(kind__in=["charge", "refund"]) & ~models.Q(generation_public_id=""),
                name="ledger_one_charge_one_refund_per_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.amount:+d} -> {self.balance_after}"


KEY_PREFIX = "sk_"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A Bearer key. Only its SHA-256 is stored; the key itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def new_raw_key(cls) -> str:
        return KEY_PREFIX + secrets.token_urlsafe(30)
