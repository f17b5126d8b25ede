"""Reads for the account settings pages: a user's API keys, ledger and tier table.

Every query here starts from the user, so a page can never show another user's keys
or ledger entries; a key id that is not the user's is a 404, not a 403, so ids of
other users' keys are not even confirmed to exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.shortcuts import get_object_or_404

from accounts.models import ApiKey, LedgerEntry, User
from accounts.tiers import LIMITS, Tier, TierLimits
from studio.paging import encode_cursor, keyset_page

LEDGER_PAGE_SIZE = 25


def api_keys(user: User) -> tuple[list[ApiKey], list[ApiKey]]:
    """The user's keys as (active, revoked), newest first."""
    keys = list(ApiKey.objects.filter(user=user).order_by("-created_at", "-pk"))
    return [k for k in keys if k.is_active], [k for k in keys if not k.is_active]


def api_key_for_user(user: User, key_id: int) -> ApiKey:
    return get_object_or_404(ApiKey, user=user, pk=key_id)


# The most entries one row can hold: a batch is at most this many images.
MAX_GROUP = 50


@dataclass(frozen=True)
class LedgerRow:
    """One line of the credits history: an entry, or a batch's charges (or refunds) taken together."""

    entries: list[LedgerEntry]
    batch_id: str = ""

    @property
    def first(self) -> LedgerEntry:
        return self.entries[0]  # the newest: its balance is the balance after the whole row

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def amount(self) -> int:
        return sum(e.amount for e in self.entries)

    @property
    def is_group(self) -> bool:
        return len(self.entries) > 1


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    next_cursor: str | None

    @property
    def entries(self) -> list[LedgerEntry]:
        return [e for row in self.rows for e in row.entries]


def ledger_page(user: User, *, cursor: str | None = None, limit: int = LEDGER_PAGE_SIZE) -> LedgerPage:
    """One page of `limit` rows of the user's ledger, newest first, keyset-paged like the
    gallery so that entries added while someone reads (a charge, a refund) never shift a page.

    The charges of one batch (and refunds of it made together) are one row, with the count
    and the total: a batch of 48 images is one line, not 48. A row is never split between
    pages: the page fetches enough entries to finish its last row, and the cursor names the
    last entry shown.

    Raises studio.paging.BadCursor for a cursor this function did not make."""
    # The batch is read through the foreign keys' names, so `accounts` imports nothing of `generations`.
    rows_qs = LedgerEntry.objects.filter(user=user).annotate(batch_ref=F("generation__batch__public_id"))
    fetched, more = keyset_page(rows_qs, cursor, limit + MAX_GROUP)
    rows: list[LedgerRow] = []
    used = 0
    for entry in fetched:
        batch = getattr(entry, "batch_ref", None) or ""
        last = rows[-1] if rows else None
        if last and batch and last.batch_id == batch and last.first.kind == entry.kind:
            last.entries.append(entry)
        elif len(rows) == limit:
            break
        else:
            rows.append(LedgerRow(entries=[entry], batch_id=batch if entry.kind in _GROUPED else ""))
        used += 1
    next_cursor = encode_cursor(fetched[used - 1]) if used < len(fetched) or more else None
    return LedgerPage(rows=rows, next_cursor=next_cursor)


_GROUPED = {LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.REFUND}


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
