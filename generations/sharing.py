"""Share links: a signed, expiring link to one image's page for someone without an account.

The token names the image and an expiry and is signed with a salt of its own, so a file
link (`storage.make_token`) can never pass for a share link or the other way round. It is
not stored: a share link cannot be listed or revoked, it expires, and deleting the image
ends it (the page then answers 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse

from generations import storage
from generations.models import Generation

_SALT = "studio.share"
DAY = 24 * 3600
# What the image page offers; the default (`STUDIO_SHARE_TTL_SECONDS`) is always among them.
CHOICES_DAYS = (1, 7, 30)


class ShareInvalid(Exception):
    pass


class ShareExpired(Exception):
    pass


@dataclass(frozen=True)
class ShareLink:
    url: str
    expires_at: datetime


def default_days() -> int:
    return max(1, round(settings.STUDIO_SHARE_TTL_SECONDS / DAY))


def make_token(generation: Generation, *, ttl: int) -> tuple[str, int]:
    """A signed token for `generation`'s share page and when it expires (epoch seconds)."""
    expires = int(storage.now()) + ttl
    return signing.dumps({"g": generation.public_id, "e": expires}, salt=_SALT, compress=False), expires


def share_link(generation: Generation, *, base_url: str, ttl: int | None = None) -> ShareLink:
    """The absolute share link for `generation`, valid `ttl` seconds (default `STUDIO_SHARE_TTL_SECONDS`)."""
    token, expires = make_token(generation, ttl=settings.STUDIO_SHARE_TTL_SECONDS if ttl is None else ttl)
    path = reverse("generations:shared", args=[token])
    return ShareLink(url=f"{base_url.rstrip('/')}{path}", expires_at=datetime.fromtimestamp(expires, tz=UTC))


def read_token(token: str) -> str:
    """The public id a valid, unexpired token names; ShareInvalid or ShareExpired otherwise."""
    try:
        payload = signing.loads(token, salt=_SALT)
        public_id, expires = str(payload["g"]), int(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ShareInvalid("This share link is not valid. Check that it was copied whole.") from exc
    if storage.now() >= expires:
        raise ShareExpired("This share link has expired. Ask whoever sent it for a fresh one.")
    return public_id
