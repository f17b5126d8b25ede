"""Account changes: signup, tiers, API keys."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts import ledger
from accounts.models import ApiKey, LedgerEntry, User, hash_key
from accounts.tiers import SIGNUP_CREDITS
from studio.prepared import Prepared

# Every /v1 call looks its key up: compiled once (see studio.prepared).
_ACTIVE_KEY = Prepared(
    lambda token_hash: ApiKey.objects.select_related("user").filter(key_hash=token_hash, revoked_at__isnull=True)[:1],
    "text",
)


@transaction.atomic
def create_user(*, username: str, password: str | None, email: str = "", tier: str = "free") -> User:
    """Create a user as signup does: with the document's 50 free credits."""
    user = User.objects.create_user(username=username, email=email, password=password, tier=tier)
    ledger.grant(user=user, amount=SIGNUP_CREDITS, kind=LedgerEntry.Kind.SIGNUP, note="Welcome credits")
    return user


def set_tier(*, user: User, tier: str) -> None:
    User.objects.filter(pk=user.pk).update(tier=tier)
    user.tier = tier


def create_api_key(*, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key for `user`. Returns the row and the raw key, which is never stored."""
    raw = ApiKey.new_raw_key()
    key = ApiKey.objects.create(user=user, name=name.strip() or "API key", prefix=raw[:10], key_hash=hash_key(raw))
    return key, raw


def revoke_api_key(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_api_key(raw: str) -> ApiKey | None:
    """The active key for a raw Bearer token, or None. Records when it was last used."""
    if not raw:
        return None
    key = _ACTIVE_KEY.first(hash_key(raw))
    if key is None or not key.user.is_active:
        return None
    now = timezone.now()
    # At most one write a minute per key: last_used_at is for people, not an audit log.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def set_embed_parameters(*, user: User, embed: bool) -> None:
    """Whether `user`'s new images carry their prompt and parameters in the files (a request may say otherwise)."""
    User.objects.filter(pk=user.pk).update(embed_parameters=embed)
    user.embed_parameters = embed


def set_theme(*, user: User, theme: str) -> None:
    """Remember how `user`'s pages look: "light", "dark" or "system" (the OS setting)."""
    User.objects.filter(pk=user.pk).update(theme=theme)
    user.theme = theme
