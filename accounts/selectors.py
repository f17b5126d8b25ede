"""Reads for the account settings pages: a user's API keys, ledger and tier table.

Every query here starts from the user, so a page can never show another user's keys
or ledger entries; a key id that is not the user's is a 404, not a 403, so ids of
other users' keys are not even confirmed to exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from accounts.models import ApiKey, LedgerEntry, User
from accounts.tiers import LIMITS, Tier, TierLimits
from studio.paging import keyset_page

LEDGER_PAGE_SIZE = 25


def api_keys(user: User) -> tuple[list[ApiKey], list[ApiKey]]:
    """The user's keys as (active, revoked), newest first."""
    keys = list(ApiKey.objects.filter(user=user).order_by("-created_at", "-pk"))
    return [k for k in keys if k.is_active], [k for k in keys if not k.is_active]


def api_key_for_user(user: User, key_id: int) -> ApiKey:
    return get_object_or_404(ApiKey, user=user, pk=key_id)


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    next_cursor: str | None


def ledger_page(user: User, *, cursor: str | None = None, limit: int = LEDGER_PAGE_SIZE) -> LedgerPage:
    """One page of the user's ledger, newest first, keyset-paged like the gallery so that
    entries added while someone reads (a charge, a refund) never shift a page.

    Raises studio.paging.BadCursor for a cursor this function did not make."""
    # No join: the page links a generation by `generation_public_id`, which outlives the row.
    entries, next_cursor = keyset_page(LedgerEntry.objects.filter(user=user), cursor, limit)
    return LedgerPage(entries=entries, next_cursor=next_cursor)


@dataclass(frozen=True)
class TierRow:
    value: str
    label: str
    limits: TierLimits
    is_current: bool


def tier_table(user: User) -> list[TierRow]:
    """Every tier with its limits, in the order of `Tier`, marking the user's own."""
    return [
        TierRow(value=tier.value, label=tier.label, limits=LIMITS[tier.value], is_current=tier.value == user.tier)
        for tier in Tier
    ]
