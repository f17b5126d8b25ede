"""Keyset paging cursors shared by both apps: an opaque `(created_at, id)` position.

Below `accounts` and `generations`, so both page the same way without importing each other.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Protocol, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime


class BadCursor(ValueError):
    """A cursor this code did not make."""


class Keyed(Protocol):
    pk: int
    created_at: datetime


RowT = TypeVar("RowT", bound=Model)


def encode_cursor(row: Keyed) -> str:
    raw = f"{row.created_at.isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.split("|")
        when = parse_datetime(stamp)
        if when is None:
            raise ValueError(stamp)
        return when, int(pk)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not valid; use next_cursor from the previous page.") from exc


def keyset_page(rows: QuerySet[RowT], cursor: str | None, limit: int) -> tuple[list[RowT], str | None]:
    """One page of `rows`, newest first by `(created_at, id)`, after `cursor` (None: the first page).

    Returns the page and the cursor of the next one (None on the last page). A row added
    while someone pages never shifts a page, because the cursor names the last row seen,
    not an offset. Raises BadCursor for a cursor `encode_cursor` did not make.
    """
    if cursor:
        when, pk = decode_cursor(cursor)
        rows = rows.filter(Q(created_at__lt=when) | Q(created_at=when, pk__lt=pk))
    fetched = list(rows.order_by("-created_at", "-pk")[: limit + 1])
    page = fetched[:limit]
    return page, encode_cursor(page[-1]) if len(fetched) > limit else None  # type: ignore[arg-type]
