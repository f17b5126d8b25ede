"""Users, the credits ledger and API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from accounts.tiers import Tier, TierLimits, limits_for


class Theme(models.TextChoices):
    """How pages look: the OS setting, or a choice that overrides it (`data-theme` on <html>)."""

    SYSTEM = "system", "System"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class User(AbstractUser):
    """A Studio user. `credits` is the balance; only `accounts.ledger` changes it."""

    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.FREE)
    credits = models.IntegerField(default=0, editable=False)
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.SYSTEM)
    # The files of new images carry the prompt and parameters; off: only the provenance marking.
    embed_parameters = models.BooleanField(
        default=True, help_text="Whether new images carry the prompt and parameters in their files."
    )

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


# --- Teams ---------------------------------------------------------------------------------


def new_team_id() -> str:
    return "team_" + secrets.token_hex(8)


class Role(models.TextChoices):
    """What a member may do in a team; `accounts.permissions` holds the table."""

    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Team(models.Model):
    """A shared workspace. Its generations are visible to its members and nobody else."""

    public_id = models.CharField(max_length=40, unique=True, default=new_team_id, editable=False)
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    can_manage: bool  # not a column: set by the teams page

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_once_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


INVITE_PREFIX_LENGTH = 6


class Invite(models.Model):
    """An invitation to a team: to one user (by username or email), or a link anyone can open.

    A personal invite is used once; a link invite can bring in several people until it
    expires or an owner revokes it.

    Like an API key, the token is stored only as its SHA-256 (`token_hash`) with its first
    characters (`token_prefix`) to recognise it: whoever reads the database cannot join a
    team with what they find there. The token itself is `token` on the invite just created,
    and is shown once, in the response that created it.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(
        max_length=12, blank=True, editable=False, help_text="The first characters of the link, to recognise it."
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True, help_text="A personal invite, once accepted.")
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Revoked by an owner, or declined.")
    uses = models.PositiveIntegerField(default=0)

    token: str  # not a column: the raw token, only on an invite just created (`save` makes it)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invite to {self.team} as {self.role}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.token_hash:  # a new invite: its token is made here, and kept only hashed
            self.token = new_invite_token()
            self.token_hash = hash_key(self.token)
            self.token_prefix = self.token[:INVITE_PREFIX_LENGTH]
        super().save(*args, **kwargs)

    @property
    def is_link(self) -> bool:
        return self.invitee_id is None

    def is_open(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.accepted_at is None and self.expires_at > at
