"""Bearer API-key authentication for the `/v1` API.

`Authorization: Bearer KEY` on every call. Anything else is refused with an
`InvalidApiKey` whose message says what was wrong (no header, another scheme, an empty
token, an unknown or revoked key), so a developer can fix the call without guessing.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts.models import ApiKey
from accounts.services import authenticate_api_key

HOW_TO = "Send 'Authorization: Bearer YOUR_API_KEY'."


class InvalidApiKey(Exception):
    """The request carries no usable API key. The API answers 401 `invalid_api_key`."""


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer …` header; `InvalidApiKey` naming the problem."""
    if header is None or not header.strip():
        raise InvalidApiKey(f"Missing Authorization header. {HOW_TO}")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidApiKey(f"The Authorization header must use the Bearer scheme, not {scheme[:20]!r}. {HOW_TO}")
    token = token.strip()
    if not token:
        raise InvalidApiKey(f"The Bearer token is empty. {HOW_TO}")
    if " " in token:
        raise InvalidApiKey(f"The Bearer token must not contain spaces. {HOW_TO}")
    return token


class ApiKeyAuth(HttpBearer):
    """Django Ninja auth: the active `ApiKey` for the request's Bearer token.

    Sets `request.auth` (by Ninja) to the key; its user is `request.auth.user`.
    """

    def __call__(self, request: HttpRequest) -> ApiKey:
        token = bearer_token(request.headers.get(self.header))
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key = authenticate_api_key(token)
        if key is None:
            raise InvalidApiKey("API key invalid, revoked or expired. Create a new key in Settings > API Keys.")
        return key
