"""Verifying webhook deliveries: the document's `X-Seedance-Signature`, and Standard Webhooks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from seedance.errors import WebhookVerificationError

TOLERANCE_SECONDS = 5 * 60


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def verify_webhook(payload: str | bytes, signature: str | None, secret: str) -> bool:
    """The document's check: `signature` is the hex HMAC-SHA256 of the raw body keyed by `secret`.

    Pass the raw body exactly as received (not re-serialised JSON). Constant-time compare.
    """
    if not signature:
        return False
    expected = hmac.new(secret.encode(), _bytes(payload), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), _bytes(signature))


class Webhook:
    """Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` ("v1,<base64>").

    The signature is HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed by the base64 part of the
    `whsec_...` secret. The header may carry several space-separated signatures (during a
    secret rotation); one match is enough. Timestamps more than 5 minutes away are refused.
    """

    prefix = "whsec_"

    def __init__(self, secret: str | bytes, *, tolerance: int = TOLERANCE_SECONDS) -> None:
        if isinstance(secret, bytes):
            self._key = secret
        else:
            raw = secret[len(self.prefix) :] if secret.startswith(self.prefix) else secret
            try:
                self._key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError("The webhook secret is not whsec_ followed by base64.") from exc
        self.tolerance = tolerance

    def sign(self, msg_id: str, timestamp: int, payload: str | bytes) -> str:
        """The `v1,<base64>` signature of one delivery."""
        signed = f"{msg_id}.{int(timestamp)}.".encode() + _bytes(payload)
        return "v1," + base64.b64encode(hmac.new(self._key, signed, hashlib.sha256).digest()).decode()

    def verify(self, payload: str | bytes, headers: Mapping[str, str]) -> Any:
        """Check the headers against the raw body; return the decoded JSON body or raise."""
        lowered = {str(k).lower(): v for k, v in headers.items()}
        msg_id = lowered.get("webhook-id")
        raw_timestamp = lowered.get("webhook-timestamp")
        signatures = lowered.get("webhook-signature")
        if not msg_id or not raw_timestamp or not signatures:
            raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
        try:
            timestamp = int(raw_timestamp)
        except ValueError as exc:
            raise WebhookVerificationError("webhook-timestamp is not an integer.") from exc
        now = int(time.time())
        if timestamp < now - self.tolerance:
            raise WebhookVerificationError("The webhook timestamp is too old.")
        if timestamp > now + self.tolerance:
            raise WebhookVerificationError("The webhook timestamp is in the future.")
        expected = self.sign(msg_id, timestamp, payload).split(",", 1)[1].encode()
        for candidate in signatures.split():
            version, _, value = candidate.partition(",")
            if version == "v1" and hmac.compare_digest(expected, value.encode()):
                return json.loads(_bytes(payload))
        raise WebhookVerificationError("No webhook-signature matches.")
