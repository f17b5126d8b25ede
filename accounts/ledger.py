"""The credits ledger: the only code that changes a balance.

Every function here must run inside the caller's transaction, so a charge or refund
commits or rolls back together with the change it pays for. A balance moves with one
conditional UPDATE (`credits >= amount`), which is atomic across processes on SQLite
and PostgreSQL alike, so a balance can never go negative however many workers charge
at once; the database's check constraint backs that up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Sum

from accounts.models import LedgerEntry, User
from studio.prepared import Prepared

if TYPE_CHECKING:
    from generations.models import Generation


class InsufficientCredits(Exception):
    def __init__(self, *, required: int, available: int) -> None:
        self.required = required
        self.available = available
        super().__init__(
            f"Not enough credits to complete this generation. Required: {required}, Available: {available}"
        )


def how_to_get_more(user: User) -> str:
    """What `user` can do about a balance too small: only staff grant credits (admin or
    `manage.py grantcredits`), so everyone else is told whom to ask."""
    if user.is_staff:
        return "Pick fewer images, or grant credits in the admin (or with manage.py grantcredits)."
    return "Pick fewer images, or ask your Studio admin for more credits."


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger changes must run inside transaction.atomic()")


_BALANCE = Prepared(lambda user_id: User.objects.filter(pk=user_id).values_list("credits"), "int")


def balance(user: User | int) -> int:
    user_id = user if isinstance(user, int) else user.pk
    rows = _BALANCE.rows(user_id)
    if not rows:
        raise User.DoesNotExist(f"No user {user_id}.")
    return int(rows[0][0])


def _move(user_id: int, amount: int) -> int:
    """Add `amount` (may be negative) to the balance, never below zero; the new balance.

    One conditional UPDATE … RETURNING (SQLite 3.35+ and PostgreSQL): the change and the
    balance it leaves in one statement, where an ORM update and a read took two.
    """
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table, credits, pk = quote(User._meta.db_table), quote("credits"), quote(User._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {credits} = {credits} + %s WHERE {pk} = %s AND {credits} >= %s RETURNING {credits}",
            [amount, user_id, max(0, -amount)],
        )
        row = cursor.fetchone()
    if row is None:
        raise InsufficientCredits(required=-amount, available=balance(user_id))
    return int(row[0])


def charge(*, user: User, generations: Sequence[Generation]) -> int:
    """Take each generation's price from `user`: one charge entry each. Returns the balance after."""
    _require_transaction()
    total = sum(g.credits_charged for g in generations)
    after = _move(user.pk, -total)
    running = after + total
    entries = []
    for g in generations:
        running -= g.credits_charged
        entries.append(
            LedgerEntry(
                user_id=user.pk,
                kind=LedgerEntry.Kind.CHARGE,
                amount=-g.credits_charged,
                balance_after=running,
                generation=g,
                generation_public_id=g.public_id,
                note=g.prompt[:200],
            )
        )
    LedgerEntry.objects.bulk_create(entries)
    user.credits = after
    return after


def refund(*, generation: Generation, note: str) -> bool:
    """Give back what `generation` was charged, exactly once. False if it was refunded already."""
    _require_transaction()
    amount = generation.credits_charged
    if amount <= 0:
        return False
    try:
        with transaction.atomic():
            after = _move(generation.user_id, amount)
            LedgerEntry.objects.create(
                user_id=generation.user_id,
                kind=LedgerEntry.Kind.REFUND,
                amount=amount,
                balance_after=after,
                generation=generation,
                generation_public_id=generation.public_id,
                note=note[:200],
            )
    except IntegrityError:
        return False
    return True


def grant(*, user: User, amount: int, kind: str = LedgerEntry.Kind.GRANT, note: str = "") -> int:
    """Add (or, negative, take) credits outside any generation. Returns the balance after."""
    _require_transaction()
    after = _move(user.pk, amount)
    LedgerEntry.objects.create(user_id=user.pk, kind=kind, amount=amount, balance_after=after, note=note[:200])
    user.credits = after
    return after


def set_balance(*, user: User, target: int, note: str = "") -> int:
    """Bring the balance to `target` with one grant entry (none if it is there already)."""
    _require_transaction()
    if target < 0:
        raise ValueError("a balance cannot be negative")
    current = balance(user)
    if current == target:
        return current
    return grant(user=user, amount=target - current, note=note or f"balance set to {target}")


def ledger_total(user: User | int) -> int:
    user_id = user if isinstance(user, int) else user.pk
    return LedgerEntry.objects.filter(user_id=user_id).aggregate(total=Sum("amount"))["total"] or 0
