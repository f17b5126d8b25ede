"""Image files: encoding with embedded parameters, storage, and signed, expiring links.

Files go through Django's storage API, so `STUDIO_STORAGE=s3` moves them to S3-compatible
storage without code changes. Links are signed tokens naming the generation, the file
kind and an expiry; the file view refuses a bad signature (403) and an expired one (410).
With a storage that signs its own URLs (S3), the link is the storage's presigned URL,
naming the download in its `response-content-disposition`, and every object is written
with its media type, so S3 answers with the right Content-Type.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image, PngImagePlugin

from generations import provenance
from generations.models import Generation

THUMBNAIL_SIZE = 384
# Chosen by size against time on 1024x1024 typeset images (bench/pipeline.py): PNG level 3
# takes half the time of Pillow's default 6 for a file within 2% of its size (lossless
# either way); WebP method 2 is 2-3x faster than 4 at a slightly smaller file, 0.2-0.5 dB lower PSNR.
PNG_COMPRESS_LEVEL = 3
WEBP_METHOD = 2
KINDS = {"png": "image/png", "webp": "image/webp", "thumbnail": "image/webp"}
_SIGNER_SALT = "studio.files"


class TypedFile(File):
    """A file with its media type, which S3 storage records as the object's Content-Type."""

    def __init__(self, file: IO[bytes], name: str, *, content_type: str) -> None:
        super().__init__(file, name)
        self.content_type = content_type


class LinkInvalid(Exception):
    pass


class LinkExpired(Exception):
    pass


def now() -> float:
    """The clock links are checked against (tests move it)."""
    return time.time()


def a1111_parameters(params: dict[str, Any]) -> str:
    """The `parameters` text chunk as AUTOMATIC1111 writes it, which image browsers read."""
    details = {
        "Steps": 1,
        "Sampler": params["engine"],
        "Seed": params["seed"],
        "Size": f"{params['width']}x{params['height']}",
        "Model": params["model"],
        "Style": params["style"],
        "Aspect ratio": params["aspect_ratio"],
        "Deep thinking": params["deep_thinking"],
    }
    if params["colors"]:
        details["Colors"] = " ".join(params["colors"])
    line = ", ".join(f"{key}: {value}" for key, value in details.items())
    return f"{params['prompt']}\nNegative prompt: {params.get('negative_prompt') or ''}\n{line}"


def marking_for(params: dict[str, Any], *, source_type: str | None = None) -> provenance.Marking:
    """What the files say about how the image was made; the source type from the engine's
    `neural` flag unless given. Parameters text only when `params` holds the prompt."""
    return provenance.Marking(
        source_type=source_type or provenance.source_type_for_engine(params["engine"]),
        task_id=params.get("task_id", ""),
        engine=params["engine"],
        model=params["model"],
        created_at=params.get("created_at", ""),
        parameters=a1111_parameters(params) if "prompt" in params else "",
    )


def encode_png(image: Image.Image, params: dict[str, Any], marking: provenance.Marking | None = None) -> bytes:
    """The PNG: A1111 `parameters` (when `params` holds the prompt), the `studio` JSON, XMP, C2PA."""
    marking = marking or marking_for(params)
    info = PngImagePlugin.PngInfo()
    if marking.parameters:
        info.add_text("parameters", marking.parameters)
    info.add_itxt("studio", json.dumps(params, sort_keys=True, separators=(",", ":")))
    info.add_itxt("XML:com.adobe.xmp", provenance.xmp_packet(marking).decode())
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)
    return provenance.sign(out.getvalue(), marking, media_type="image/png")


def encode_webp(image: Image.Image, *, quality: int = 90, marking: provenance.Marking | None = None) -> bytes:
    """A WebP; with a `marking`, its XMP (with the parameters text) and a C2PA manifest."""
    out = io.BytesIO()
    xmp = provenance.xmp_packet(marking, with_parameters=True) if marking else b""
    image.save(out, format="WEBP", quality=quality, method=WEBP_METHOD, xmp=xmp)
    if marking is None:
        return out.getvalue()
    return provenance.sign(out.getvalue(), marking, media_type="image/webp")


def encode_thumbnail(image: Image.Image, marking: provenance.Marking | None = None) -> bytes:
    """The gallery's WebP thumbnail: derived, so it carries the source type in XMP but no manifest
    and no parameters."""
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    xmp = provenance.xmp_packet(marking) if marking else b""
    thumb.save(out, format="WEBP", quality=80, method=WEBP_METHOD, xmp=xmp)
    return out.getvalue()


def encode_all(image: Image.Image, params: dict[str, Any], *, source_type: str | None = None) -> dict[str, bytes]:
    """PNG, WebP and thumbnail, encoded (and signed) at once: Pillow and c2pa release the GIL.

    Each encode works on its own copy, because `Image.save` writes encoder state onto the
    image it saves. All three finish before this returns; a failure raises as the serial
    order would (PNG's first, then WebP's, then the thumbnail's).
    """
    marking = marking_for(params, source_type=source_type)
    jobs = {
        "png": partial(encode_png, image.copy(), params, marking),
        "webp": partial(encode_webp, image.copy(), marking=marking),
        "thumbnail": partial(encode_thumbnail, image, marking),  # copies before it resizes
    }
    pool = _encoders()
    futures = {kind: pool.submit(job) for kind, job in jobs.items()}
    return {kind: future.result() for kind, future in futures.items()}


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _encoders() -> ThreadPoolExecutor:
    """Three encoder threads for this process, started once (starting them per image cost more
    than a thumbnail); made anew in a forked child, where the parent's threads do not exist."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=3, thread_name_prefix="encode"))
    return _pool[1]


def file_name(generation: Generation, kind: str) -> str:
    stamp = generation.created_at.strftime("%Y/%m")
    suffix = {"png": ".png", "webp": ".webp", "thumbnail": ".thumb.webp"}[kind]
    return f"generations/{stamp}/{generation.public_id}{suffix}"


def save_images(
    generation: Generation, image: Image.Image, params: dict[str, Any], *, source_type: str | None = None
) -> dict[str, Any]:
    """Write PNG, WebP and thumbnail; returns their storage names (and the PNG's size).

    Names derive from the public id, so a retried render overwrites rather than orphans.
    `params` is what the files may say (`Generation.embedded_parameters`); `source_type`
    the IPTC digital source type (`provenance.source_type`), else the engine's.
    """
    blobs = encode_all(image, params, source_type=source_type)
    names: dict[str, Any] = {}
    for kind, data in blobs.items():
        name = file_name(generation, kind)
        if default_storage.exists(name):
            default_storage.delete(name)
        names[kind] = default_storage.save(name, TypedFile(io.BytesIO(data), name, content_type=KINDS[kind]))
    names["png_size"] = len(blobs["png"])
    return names


def delete_images(generation: Generation) -> None:
    delete_files([generation.image_png, generation.image_webp, generation.thumbnail])


def delete_files(names: Iterable[str]) -> None:
    """Delete each of `names` that exists (empty names are skipped)."""
    for name in names:
        if name and default_storage.exists(name):
            default_storage.delete(name)


def storage_signs_urls() -> bool:
    return getattr(default_storage, "querystring_auth", False)


def presigned_url(name: str, *, filename: str, attachment: bool = False) -> str:
    """The storage's own expiring link to `name` (S3), which saves as `filename`."""
    disposition = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    # S3Storage.url takes the headers S3 should answer with; Django's Storage.url does not.
    url: Callable[..., str] = default_storage.url
    return url(name, parameters={"ResponseContentDisposition": disposition})


def make_token(generation: Generation, kind: str, *, ttl: int | None = None) -> str:
    """A signed token for one of `generation`'s files, valid `ttl` seconds (the link TTL plus its reuse)."""
    ttl = settings.STUDIO_LINK_TTL_SECONDS + settings.STUDIO_LINK_REUSE_SECONDS if ttl is None else ttl
    payload = {"g": generation.public_id, "k": kind, "e": int(now()) + ttl}
    return signing.dumps(payload, salt=_SIGNER_SALT, compress=False)


def read_token(token: str) -> tuple[str, str]:
    """(public_id, kind) for a valid, unexpired token."""
    try:
        payload = signing.loads(token, salt=_SIGNER_SALT)
        public_id, kind, expires = payload["g"], payload["k"], int(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("This link is not valid.") from exc
    if kind not in KINDS:
        raise LinkInvalid("This link is not valid.")
    if now() >= expires:
        raise LinkExpired("This link has expired. Request the image again for a fresh link.")
    return public_id, kind


_UNSAFE = re.compile(r"[^a-z0-9]+")


def download_filename(generation: Generation, kind: str) -> str:
    """A readable file name from the prompt: 'a-serene-mountain-landscape-img_ab12.png'."""
    words = _UNSAFE.sub("-", generation.prompt.lower()).strip("-")[:60].rstrip("-") or "image"
    ext = "png" if kind == "png" else "webp"
    return f"{words}-{generation.public_id[-6:]}.{ext}"


# Links this process signed lately: (file, kind, download, base) -> (link, when signed).
_recent_links: dict[tuple[str, str, bool, str], tuple[str, float]] = {}
_MAX_RECENT_LINKS = 10_000


def signed_url(generation: Generation, kind: str, *, base_url: str = "", download: bool = False) -> str:
    """An absolute, expiring link to one of a completed generation's files; `download`: saved, not shown.

    Valid `STUDIO_LINK_TTL_SECONDS` (the document's 24 hours) from now at least: a link is
    signed for the TTL plus `STUDIO_LINK_REUSE_SECONDS` and handed out again for that long,
    so a client polling a completed image gets the same links (and this process signs them
    once a minute, not three times a poll).
    """
    name = {"png": generation.image_png, "webp": generation.image_webp, "thumbnail": generation.thumbnail}[kind]
    if not name:
        return ""
    base = (settings.STUDIO_PUBLIC_URL or base_url).rstrip("/")
    key = (name, kind, download, base)
    at = now()
    recent = _recent_links.get(key)
    if recent is not None and 0 <= at - recent[1] < settings.STUDIO_LINK_REUSE_SECONDS:
        return recent[0]
    filename = download_filename(generation, kind)
    if storage_signs_urls():
        url = presigned_url(name, filename=filename, attachment=download)
    else:
        path = reverse("files:get", args=[make_token(generation, kind), filename])
        url = f"{base}{path}{'?download=1' if download else ''}"
    if len(_recent_links) >= _MAX_RECENT_LINKS:
        _recent_links.clear()
    _recent_links[key] = (url, at)
    return url
