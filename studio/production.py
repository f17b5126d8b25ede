"""The secret key, the allowed hosts and HTTPS: what production requires and `make run` does not.

Studio starts in one of two ways, told apart by DJANGO_DEBUG:

- unset (`make run`, the test suite): no configuration at all. The secret key is made on
  first start and kept in `STUDIO_VAR_DIR/secret-key` (mode 0600), so sessions, signed
  links and encrypted webhook secrets survive restarts and no key is ever public.
- set to a false value (`DJANGO_DEBUG=0`, as the Dockerfile does): production. Studio
  refuses to start without a real DJANGO_SECRET_KEY and explicit DJANGO_ALLOWED_HOSTS,
  and HTTPS redirects, HSTS and secure cookies default to on (`studio.settings`).

A key made on one machine cannot serve many: every web, worker and beat process must sign
and decrypt with the same key, so production takes it from the environment only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

MIN_KEY_LENGTH = 50
# The default key before keys were generated, published in the repository: anyone could
# forge sessions and signed links with it, so it is refused wherever it turns up.
PUBLIC_KEY = "dev-insecure-change-me-" + "x" * 32
MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(64))'"


def requested(debug: str) -> bool:
    """Production: DJANGO_DEBUG is set, to a false value ("0", "false", "no", "off")."""
    value = debug.strip().lower()
    return value != "" and value not in {"1", "true", "yes", "on"}


def refuse_public_key(key: str, *, variable: str = "DJANGO_SECRET_KEY") -> None:
    if key == PUBLIC_KEY or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            f"{variable} is a development key published with the source code: anyone could forge "
            f"sessions and signed links with it. Set a new random key, e.g. from {MAKE_A_KEY}"
        )


def check_production(*, secret_key: str, fallbacks: list[str], allowed_hosts: list[str]) -> None:
    """Refuse to start (ImproperlyConfigured) on a missing, public or weak key, or no explicit hosts."""
    if not secret_key:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG=0 (production) needs DJANGO_SECRET_KEY: at least {MIN_KEY_LENGTH} random "
            "characters, the same for every web, worker and beat process. Make one with "
            f"{MAKE_A_KEY}"
        )
    refuse_public_key(secret_key)
    if len(secret_key) < MIN_KEY_LENGTH or len(set(secret_key)) < 5:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too weak ({len(secret_key)} characters, {len(set(secret_key))} different): "
            f"production needs at least {MIN_KEY_LENGTH} random characters. Make one with {MAKE_A_KEY}"
        )
    for old in fallbacks:
        refuse_public_key(old, variable="DJANGO_SECRET_KEY_FALLBACKS")
    if not allowed_hosts:
        raise ImproperlyConfigured(
            "DJANGO_DEBUG=0 (production) needs DJANGO_ALLOWED_HOSTS: the comma-separated host names "
            "the studio answers to, e.g. DJANGO_ALLOWED_HOSTS=studio.example.com"
        )
    if "*" in allowed_hosts:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS=* accepts any Host header, so links and emails could be made to point "
            "anywhere. List the host names the studio answers to, e.g. DJANGO_ALLOWED_HOSTS=studio.example.com"
        )


def stored_key(path: Path) -> str:
    """The key kept in `path`, made on first use; every process started with the same folder reads it."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = _create_key_file(path)
    if len(key) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key (under {MIN_KEY_LENGTH} characters): delete it and a new "
            "one is made at the next start (signing everyone out), or set DJANGO_SECRET_KEY."
        )
    return key


def _create_key_file(path: Path) -> str:
    key = secrets.token_urlsafe(64)
    # mkstemp makes the file 0600; a hard link puts it in place whole, and fails if another
    # process started at the same moment got there first: then both use that one's key.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text().strip()
        except OSError:  # a file system without hard links
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return key


def proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """("HTTP_X_FORWARDED_PROTO", "https") from "X-Forwarded-Proto" or "HTTP_X_FORWARDED_PROTO"; unset: None.

    Set it only behind a proxy that sets the header on every request (and drops a client's own).
    """
    name = name.strip().upper().replace("-", "_")
    if not name:
        return None
    return (name if name.startswith("HTTP_") else f"HTTP_{name}", "https")


def origin(url: str) -> list[str]:
    """[scheme://host[:port]] of `url`, or [] when it is not an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []
    return [f"{parts.scheme}://{parts.netloc}"]
