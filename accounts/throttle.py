"""Sign-in throttling: failed logins counted per account and per client address.

After `FAILURES_PER_ACCOUNT` failed logins for one account, or `FAILURES_PER_ADDRESS` from
one address, within `WINDOW_SECONDS` of the first of them, further attempts are refused
*before* the password is checked, until the window ends. A successful login clears the
account's count (not the address's: one person signing in does not vouch for the others
behind the same address). Refused attempts are not counted, so waiting always works.

Counters live in Django's cache, so every web process sees the same count (Redis in a
scale-out, `studio.sqlite_cache` embedded). A window is two keys: `…:until`, written once
with `add` when the first failure of a window is counted (its value is the Unix time the
window ends), and the count itself, named after that end time so that a counter left over
from an earlier window is never read again. The count goes up with
`accounts.ratelimit.increment` (atomic `add` + `incr`, under a lock on the database
cache). The database cache's `incr` rewrites the key with the default timeout, so the
expiry is pinned again with `touch` afterwards.

Attempts running at the same moment all pass the check before any of them is counted, so
a burst can try a few more passwords than the limit (at most one per busy web worker);
each still pays for a full password hash, and the very next attempt is refused.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.ratelimit import increment

# Five wrong passwords for one account within 15 minutes is more than a person mistyping
# and far too few for guessing; 20 from one address leaves room for an office or a school
# behind one NAT address while stopping a script that tries many accounts.
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
# Password-reset requests (each sends a mail) from one address in the same window.
RESETS_PER_ADDRESS = 10
WINDOW_SECONDS = 15 * 60

ACCOUNT = "account"
ADDRESS = "address"
RESET = "reset"

LIMITS = {ACCOUNT: FAILURES_PER_ACCOUNT, ADDRESS: FAILURES_PER_ADDRESS, RESET: RESETS_PER_ADDRESS}
MESSAGES = {
    ACCOUNT: "Too many failed sign-ins for this account. Try again in {wait}.",
    ADDRESS: "Too many failed sign-ins from your network. Try again in {wait}.",
    RESET: "Too many password reset requests from your network. Try again in {wait}.",
}


def now() -> float:
    """The clock windows are measured against (tests move it)."""
    return time.time()


def client_address(request: HttpRequest | None) -> str:
    """The address the request came from, as the web server saw it.

    X-Forwarded-For is not read unless `STUDIO_TRUST_X_FORWARDED_FOR` is set: any client
    can send the header, so trusting it would let every attempt claim a fresh address.
    Set it only when Studio is reachable through exactly one reverse proxy that appends
    the client's address; then the last entry is the one that proxy wrote.
    """
    if request is None:
        return ""
    if getattr(settings, "STUDIO_TRUST_X_FORWARDED_FOR", False):
        forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return str(request.META.get("REMOTE_ADDR") or "")


def account_key(identifier: str) -> str:
    """The account an attempt is for: the username (after email → username), any case."""
    return identifier.strip().lower()


@dataclass(frozen=True)
class Refusal:
    """An attempt refused because `scope` ran out of attempts; allowed again in `retry_after` seconds."""

    scope: str
    retry_after: int

    @property
    def wait(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        return f"{minutes} minute{'' if minutes == 1 else 's'}"

    @property
    def message(self) -> str:
        return MESSAGES[self.scope].format(wait=self.wait)


def _base(scope: str, value: str) -> str:
    # Hashed: usernames and IPv6 addresses hold characters some cache backends refuse in keys.
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    return f"studio:signin:{scope}:{digest}"


def _counter(base: str, until: float) -> str:
    return f"{base}:{until:.6f}"


def _window_end(base: str) -> float | None:
    until = cache.get(f"{base}:until")
    return float(until) if until is not None and float(until) > now() else None


def refusal(scope: str, value: str) -> Refusal | None:
    """A `Refusal` while `value` (an account or an address) has no attempts left in `scope`."""
    if not value:
        return None
    base = _base(scope, value)
    until = _window_end(base)
    if until is None:
        return None
    count = cache.get(_counter(base, until)) or 0
    if count < LIMITS[scope]:
        return None
    return Refusal(scope=scope, retry_after=max(1, math.ceil(until - now())))


def count(scope: str, value: str) -> int:
    """Count one more attempt for `value` in `scope`, starting a window if none is running; the new count."""
    if not value:
        return 0
    base = _base(scope, value)
    until = _window_end(base)
    if until is None:  # the first failure of a window
        fresh = now() + WINDOW_SECONDS
        if not cache.add(f"{base}:until", fresh, WINDOW_SECONDS):
            until = _window_end(base)  # another process started the window first
            if until is None:  # the key of an ended window, not yet expired
                cache.set(f"{base}:until", fresh, WINDOW_SECONDS)
        until = until or fresh
    ttl = max(1, math.ceil(until - now()))
    key = _counter(base, until)
    counted = increment(key, ttl)
    cache.touch(key, ttl)
    return counted


def clear(scope: str, value: str) -> None:
    if not value:
        return
    base = _base(scope, value)
    until = cache.get(f"{base}:until")
    cache.delete_many([f"{base}:until", *([_counter(base, float(until))] if until is not None else [])])


def login_refusal(*, account: str, address: str) -> Refusal | None:
    """Why a login for `account` from `address` is refused now (the longer wait of the two), or None."""
    found = [r for r in (refusal(ACCOUNT, account), refusal(ADDRESS, address)) if r is not None]
    return max(found, key=lambda r: r.retry_after, default=None)


def login_failed(*, account: str, address: str) -> None:
    count(ACCOUNT, account)
    count(ADDRESS, address)


def login_succeeded(*, account: str) -> None:
    clear(ACCOUNT, account)


def reset_requested(address: str) -> Refusal | None:
    """Count a password-reset request from `address`; a `Refusal` once there were too many."""
    if not address or count(RESET, address) <= RESETS_PER_ADDRESS:
        return None
    return refusal(RESET, address) or Refusal(scope=RESET, retry_after=WINDOW_SECONDS)
