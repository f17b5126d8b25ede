"""The file storage entry for S3 and S3-compatible servers (`STUDIO_STORAGE=s3`).

Objects stay private (no ACL); the studio hands out SigV4 presigned links that expire with
its own (`STUDIO_LINK_TTL_SECONDS`, 24 hours), so a link in an API reply or a webhook
works for the document's 24 hours whichever storage is behind it.
"""

from __future__ import annotations

from typing import Any

# SigV4 presigned URLs are valid for at most seven days.
MAX_LINK_SECONDS = 7 * 24 * 3600


def storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    addressing_style: str = "",
    link_seconds: int = 24 * 3600,
    **options: Any,
) -> dict[str, Any]:
    """A STORAGES entry for django-storages' S3Storage; `options` (credentials, say) are passed on."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "signature_version": "s3v4",
            # S3-compatible servers (MinIO, Ceph, moto) take path-style addresses; AWS prefers virtual hosts.
            "addressing_style": addressing_style or ("path" if endpoint_url else "virtual"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": min(link_seconds, MAX_LINK_SECONDS),
            # Names derive from public ids: a re-rendered image replaces its files rather than leaving copies.
            "file_overwrite": True,
            # As the studio's own file view answers: a link may be cached privately.
            "object_parameters": {"CacheControl": "private, max-age=3600"},
            **options,
        },
    }
