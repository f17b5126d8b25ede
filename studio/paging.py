"""Keyset paging cursors shared by both apps: an opaque `(created_at, id)` position.

Below `accounts` and `generations`, so both page the same way without importing each other.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Protocol

from django.utils.dateparse import parse_datetime


class BadCursor(ValueError):
    """A cursor this code did not make."""


class Keyed(Protocol):
    pk: int
    created_at: datetime


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
