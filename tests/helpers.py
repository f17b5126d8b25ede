"""Small builders shared by tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from generations import specs

ON_S3 = settings.STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
# On S3 an image link is the store's own SigV4 presigned URL (tests/test_s3_storage.py),
# so what decides the studio's own /files/ links does not apply there.
studio_file_links = pytest.mark.skipif(ON_S3, reason="on S3, image links are the store's presigned URLs")


def link_path(url: str) -> str:
    """The path of an image link, without the query a signed link carries (S3's, or none)."""
    return urlsplit(url).path


def assert_image_link(url: str, studio_base: str) -> None:
    """A studio-signed `/files/` link under `studio_base`, or on S3 a SigV4 link into the bucket."""
    if ON_S3:
        assert url.startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]), url
        assert (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
            and f"X-Amz-Expires={settings.STUDIO_LINK_TTL_SECONDS + settings.STUDIO_LINK_REUSE_SECONDS}" in url
        ), url
    else:
        assert url.startswith(f"{studio_base}/files/"), url


def spec(**overrides: Any) -> specs.Spec:
    data = {"model": "seedream-5.0-lite", "prompt": "A serene mountain landscape at sunrise", **overrides}
    return specs.build_spec(data)


def engine_spec(**fields: Any) -> specs.Spec:
    """A Spec as a worker hands it to an engine (already validated): a fixed prompt and seed."""
    return specs.Spec(**{"model": "seedream-5.0-lite", "prompt": "A lighthouse at dusk", "seed": 42, **fields})


@contextlib.contextmanager
def broker_refusing_messages() -> Iterator[None]:
    """The embedded broker's folder replaced by a file; Redis refusing LPUSH (how kombu publishes)."""
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        import redis

        server = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        me = server.acl_whoami()  # this test process's own user (tests/settings.py)
        server.execute_command("ACL", "SETUSER", me, "-lpush")
        try:
            yield
        finally:
            server.execute_command("ACL", "SETUSER", me, "+lpush")
        return
    queue_dir = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
    aside = queue_dir.with_name("queue-aside")
    queue_dir.rename(aside)
    queue_dir.write_text("not a folder: every enqueue fails")
    try:
        yield
    finally:
        queue_dir.unlink()
        aside.rename(queue_dir)
