"""Webhook signing secrets and signatures.

Every delivery carries two kinds of signature over the same raw body:

- `X-Seedance-Signature`: the product document's lowercase hex HMAC-SHA256 of the raw
  body. The key is the secret *string's* UTF-8 bytes, exactly as the document's
  `verify_webhook` does `secret.encode()`. The header carries one value, so during a
  rotation it is made with the NEWEST secret only: a receiver that switched to the new
  secret verifies at once, and one still on the old secret has the Standard Webhooks
  header (which carries both) or 24 hours to switch.
- Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`): `v1,` +
  base64 HMAC-SHA256 over `id.timestamp.body`, keyed by the base64-decoded part of the
  `whsec_…` secret, as the `standardwebhooks` libraries expect. During a rotation one
  signature per live secret, space-separated, newest first.

Secrets are `whsec_` + base64 of 24 random bytes. They are stored encrypted with Fernet
under a key derived (HKDF-SHA256) from `SECRET_KEY`; `SECRET_KEY_FALLBACKS` still decrypt,
so rotating Django's key does not lose the secrets.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from generations.models import WebhookSecret

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
# How long the previous secret keeps signing after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
_HKDF_INFO = b"studio.webhook-secrets.v1"


class SecretUnreadable(Exception):
    """The stored secret does not decrypt with SECRET_KEY or any of SECRET_KEY_FALLBACKS."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _fernet_for(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("The webhook secret cannot be decrypted with SECRET_KEY; rotate it.") from exc


# --- An account's secret ----------------------------------------------------------------------


def secret_record(user: User) -> WebhookSecret:
    """The account's secret row, created on first use (in its own savepoint, so a racing
    creator's row wins without breaking the caller's transaction)."""
    existing = WebhookSecret.objects.filter(user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return WebhookSecret.objects.create(user=user, encrypted=encrypt(new_secret()))
    except IntegrityError:
        found = WebhookSecret.objects.filter(user=user).first()
        if found is None:
            raise
        return found


def current_secret(user: User) -> str:
    """The secret receivers should configure (the newest)."""
    return decrypt(secret_record(user).encrypted)


def signing_secrets(user: User, *, at: datetime | None = None) -> list[str]:
    """Every secret that signs now: the newest first, then the previous one during its overlap."""
    record = secret_record(user)
    live = [decrypt(record.encrypted)]
    if record.previous_is_active(at):
        # An unreadable old secret is going away anyway; the new one still signs.
        with contextlib.suppress(SecretUnreadable):
            live.append(decrypt(record.previous_encrypted))
    return live


def rotate_secret(user: User) -> str:
    """Make a new secret; the one it replaces keeps signing (as well) for 24 hours.

    Rotating again during an overlap replaces the previous secret with the one current
    until now: only the two newest secrets ever sign.
    """
    with transaction.atomic():
        record = WebhookSecret.objects.select_for_update().filter(user=user).first()
        fresh = new_secret()
        now = timezone.now()
        if record is None:
            WebhookSecret.objects.create(user=user, encrypted=encrypt(fresh), created_at=now)
            return fresh
        record.previous_encrypted = record.encrypted
        record.previous_expires_at = now + ROTATION_OVERLAP
        record.encrypted = encrypt(fresh)
        record.rotated_at = now
        record.save(update_fields=["previous_encrypted", "previous_expires_at", "encrypted", "rotated_at"])
    return fresh


# --- Signatures -------------------------------------------------------------------------------


def seedance_signature(body: bytes, secret: str) -> str:
    """The document's `verify_webhook`: hex HMAC-SHA256 of the raw body, keyed by the secret string."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks key: the base64 part of `whsec_…`, decoded."""
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def standard_signature(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """`v1,<base64>` over `id.timestamp.body`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(msg_id: str, timestamp: int, body: bytes, live_secrets: list[str]) -> dict[str, str]:
    """The signing headers of one attempt. `live_secrets` newest first.

    `webhook-signature` carries one signature per live secret. The document's header holds
    a single hex value, so during a rotation the old secret's one travels beside it in
    `X-Seedance-Signature-Previous`: a receiver still on the old secret checks that header.
    """
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard_signature(msg_id, timestamp, body, s) for s in live_secrets),
        "X-Seedance-Signature": seedance_signature(body, live_secrets[0]),
    }
    if len(live_secrets) > 1:
        headers["X-Seedance-Signature-Previous"] = seedance_signature(body, live_secrets[1])
    return headers
