"""Where the studio's absolute links start, for a reply now and for a webhook sent later.

`STUDIO_PUBLIC_URL`, when set, is the base of every absolute link. Unset, a reply uses the
host of the request it answers, and a webhook uses the host of the request that submitted
the generation (recorded on the generation and its batch as `public_base_url`), so a
receiver downloads from the studio that was asked, whatever port it runs on. Only a row
with nothing recorded (submitted by `manage.py generate`) falls back to
`STUDIO_WEBHOOK_LINK_BASE_URL`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

MAX_LENGTH = 200  # of the recorded `public_base_url` columns


def request_base_url(request: HttpRequest) -> str:
    """`STUDIO_PUBLIC_URL`, else this request's scheme and host, without a trailing slash.

    The host is `request.get_host()`: the Host header (checked against `ALLOWED_HOSTS`), or
    the proxy's headers where `USE_X_FORWARDED_HOST` / `SECURE_PROXY_SSL_HEADER` say so.
    """
    return settings.STUDIO_PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def to_record(base_url: str) -> str:
    """What a row records: the base, or "" for one too long for the column (links then fall back)."""
    return base_url if len(base_url) <= MAX_LENGTH else ""


def webhook_base_url(recorded: str) -> str:
    """The base of links in a webhook body: `STUDIO_PUBLIC_URL`, the recorded base, or the last resort."""
    return settings.STUDIO_PUBLIC_URL or recorded or settings.STUDIO_WEBHOOK_LINK_BASE_URL
