"""`Idempotency-Key`: the same POST sent twice is done once, and answered the same way.

The first request with a key *claims* it by inserting an `IdempotencyRecord`; the unique
constraint on (user, key, endpoint) makes the insert the arbiter, on SQLite and
PostgreSQL alike, even when both requests arrive at the same instant in two processes.
The claimant does the work and stores its reply in the same transaction as the work
(`Claim.save`), so a charge and the reply that reports it commit together. Any other
request with the key then either replays the stored reply, waits for the claimant
(polling the row, up to `WAIT_SECONDS`), or is refused:

- a different body under the same key → `KeyReused` (409 `idempotency_key_reused`);
- the claimant still busy after the wait → `InProgress` (409 `idempotency_in_progress`).

A reply that should not be replayed (a 5xx, a rate limit, a balance that may change) is
not stored: the claimant `release`s the key and a retry is a fresh attempt. Records live
24 hours; older ones are ignored and replaced, and `prune_expired` deletes them.
A claim left unfinished by a process that died is taken over after `STALE_SECONDS`;
the claim is checked again when the reply is saved, so a slow claimant that was taken
over cannot also commit its work.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from generations.models.idempotency import TTL, IdempotencyRecord

WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
STALE_SECONDS = 60.0
KEY_MAX_LENGTH = 255


class InvalidKey(ValueError):
    """The header's value cannot be a key (empty, too long, not printable ASCII)."""


class KeyReused(Exception):
    """The key was first used with a different request body."""


class InProgress(Exception):
    """The first request with this key has not finished yet."""


def clean_key(value: str) -> str:
    """The key as sent, if it is 1-255 printable ASCII characters (not all spaces), without its end spaces.

    Length and characters are checked on the value as sent, as /v1/openapi.json documents them."""
    key = value.strip(" ")
    if not key or len(value) > KEY_MAX_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise InvalidKey(f"Idempotency-Key must be 1 to {KEY_MAX_LENGTH} printable ASCII characters.")
    return key


def fingerprint(body: Any) -> str:
    """SHA-256 of the body as canonical JSON: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Replay:
    """The stored first reply to return again."""

    status: int
    body: Any


@dataclass(frozen=True)
class Claim:
    """This request owns the key. `token` is the record's `created_at` when claimed."""

    record_id: int
    token: datetime

    def _mine(self) -> QuerySet[IdempotencyRecord]:
        return IdempotencyRecord.objects.filter(pk=self.record_id, created_at=self.token, response_status__isnull=True)

    def save(self, status: int, body: Any) -> None:
        """Store the reply. Call inside the work's transaction, so both commit or neither.

        Raises `InProgress` if another request took the claim over meanwhile; raised in
        the work's transaction, it rolls the work back.
        """
        if not self._mine().update(response_status=status, response_body=body):
            raise InProgress("This Idempotency-Key was taken over by a retry while the request ran.")

    def release(self) -> None:
        """Forget the claim: the next request with the key starts afresh."""
        self._mine().delete()


def claim(*, user: User, key: str, endpoint: str, request_hash: str) -> Claim | Replay:
    """Claim `key` for this request, or return the first reply, or raise KeyReused/InProgress."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                created = IdempotencyRecord.objects.create(
                    user=user, key=key, endpoint=endpoint, request_hash=request_hash, created_at=now
                )
            return Claim(record_id=created.pk, token=created.created_at)
        except IntegrityError:
            pass  # someone holds the key: look at what they have
        record = IdempotencyRecord.objects.filter(user=user, key=key, endpoint=endpoint).first()
        if record is None:
            continue  # released or expired between our insert and this read
        if record.created_at <= now - TTL:
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.request_hash != request_hash:
            raise KeyReused(
                "This Idempotency-Key was already used with a different request body. "
                "Use a new key for a different request."
            )
        if record.response_status is not None:
            return Replay(status=record.response_status, body=record.response_body)
        if record.created_at <= now - timedelta(seconds=STALE_SECONDS):
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, created_at=record.created_at, response_status__isnull=True
            ).update(created_at=now)
            if taken:
                return Claim(record_id=record.pk, token=now)
            continue
        if time.monotonic() >= deadline:
            raise InProgress(
                "A request with this Idempotency-Key is still being processed. Retry shortly to get its reply."
            )
        time.sleep(POLL_SECONDS)


def prune_expired() -> int:
    """Delete records older than 24 hours; how many went."""
    return IdempotencyRecord.delete_expired()
