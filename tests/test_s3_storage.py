"""S3 storage for real: moto's S3-compatible server on loopback, the studio's own S3 options
(`studio.s3`), and links fetched over real HTTP as a browser or an API client would."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import boto3
import httpx
import pytest
from django.test import override_settings
from django.urls import reverse
from moto.server import ThreadedMotoServer

from generations import exports, services, storage
from generations.models import Export, Generation
from generations.worker import render as pipeline
from studio import s3
from tests.helpers import spec
from tests.studio_factories import make_generation

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1, on a free port, for this module's tests."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    client: Any
    name: str

    def objects(self) -> set[str]:
        """The keys of everything in the bucket."""
        return {o["Key"] for o in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])}

    def content_type(self, key: str) -> str:
        return self.client.head_object(Bucket=self.name, Key=key)["ContentType"]

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(s3_endpoint, settings) -> Bucket:
    """A fresh bucket, and the studio's default storage pointed at it with the settings' own options."""
    name = f"studio-{uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=name)
    entry = s3.storage(
        bucket=name,
        endpoint_url=s3_endpoint,
        region=REGION,
        link_seconds=settings.STUDIO_LINK_TTL_SECONDS + settings.STUDIO_LINK_REUSE_SECONDS,  # as studio/settings.py
        access_key=CREDENTIALS["aws_access_key_id"],
        secret_key=CREDENTIALS["aws_secret_access_key"],
    )
    settings.STORAGES = {**settings.STORAGES, "default": entry}
    return Bucket(client, name)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A client that fetches links as they are, with no proxy from the environment."""
    with httpx.Client(trust_env=False, timeout=30) as client:
        yield client


@pytest.fixture
def rendered(make_user, bucket) -> Generation:
    """A generation submitted and rendered by the pipeline, its files written to the bucket."""
    with override_settings(STUDIO_MODELS={"seedream-5.0-lite": {"engine": "fake", "options": {}}}):
        g = services.submit(user=make_user(), spec=spec(prompt="A Big Red Barn!")).generations[0]
        pipeline.render(g.pk)
    g.refresh_from_db()
    return g


def test_links_are_sigv4_presigned_for_24_hours_and_serve_the_bytes_with_their_type(rendered, bucket, http):
    for kind, name, content_type in (
        ("png", rendered.image_png, "image/png"),
        ("webp", rendered.image_webp, "image/webp"),
        ("thumbnail", rendered.thumbnail, "image/webp"),
    ):
        url = storage.signed_url(rendered, kind)
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert query["X-Amz-Expires"] == [str(24 * 3600 + 60)]  # the TTL, plus the minute a link is reused
        assert urlsplit(url).path == f"/{bucket.name}/{name}", "path-style, as S3-compatible servers want"
        response = http.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == content_type
        assert response.content == bucket.read(name)
    assert http.get(storage.signed_url(rendered, "png")).content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_download_link_saves_the_file_under_a_name_from_the_prompt(rendered, http):
    response = http.get(storage.signed_url(rendered, "png", download=True))
    assert response.status_code == 200
    expected = f'attachment; filename="a-big-red-barn-{rendered.public_id[-6:]}.png"'
    assert response.headers["Content-Disposition"] == expected


def test_a_completed_generation_has_its_png_webp_and_thumbnail_in_the_bucket(rendered, bucket):
    assert rendered.stage == "completed"
    assert bucket.objects() == {rendered.image_png, rendered.image_webp, rendered.thumbnail}
    assert bucket.content_type(rendered.image_png) == "image/png"
    assert bucket.content_type(rendered.image_webp) == "image/webp"
    assert bucket.content_type(rendered.thumbnail) == "image/webp"
    assert len(bucket.read(rendered.image_png)) == rendered.file_size


def test_deleting_an_image_removes_its_files_from_the_bucket(rendered, bucket, django_capture_on_commit_callbacks):
    kept = make_generation(rendered.user, prompt="Keep me")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delete(user=rendered.user, generations=[rendered]) == 1
    assert bucket.objects() == {kept.image_png, kept.image_webp, kept.thumbnail}


def test_a_zip_export_is_written_to_the_bucket_and_downloaded_from_it(
    client, make_user, bucket, http, monkeypatch, django_capture_on_commit_callbacks
):
    user = make_user()
    client.force_login(user)
    monkeypatch.setattr(exports, "STREAM_LIMIT", 1)
    monkeypatch.setattr("generations.tasks.build_export.apply_async", lambda args, **_: None)
    gens = [make_generation(user, prompt=f"Poster {i}") for i in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/selection", {"action": "zip", "ids": [g.public_id for g in gens]})
    export = Export.objects.get()
    exports.build_export(export.pk)
    export.refresh_from_db()

    assert export.state == "ready" and export.file == f"exports/{export.public_id}.zip"
    assert export.file in bucket.objects()
    assert bucket.content_type(export.file) == "application/zip"
    download = client.get(reverse("generations:export_download", args=[export.public_id]))
    assert download.status_code == 302, "the browser fetches the ZIP from the bucket, not through the studio"
    assert parse_qs(urlsplit(download["Location"]).query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    response = http.get(download["Location"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="studio-2-images-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(exports.member_names(gens))
    assert {archive.read(n) for n in archive.namelist()} == {bucket.read(g.image_png) for g in gens}


def test_an_expired_export_is_removed_from_the_bucket(make_user, bucket):
    user = make_user()
    g = make_generation(user)
    export = Export.objects.create(user=user, generation_ids=[g.pk], total=1)
    exports.build_export(export.pk)
    Export.objects.filter(pk=export.pk).update(created_at=export.created_at - exports.EXPORT_TTL * 2)
    assert exports.delete_expired_exports() == 1
    assert bucket.objects() == {g.image_png, g.image_webp, g.thumbnail}
