"""ZIPs of many images: streamed straight to the browser, or built by a worker.

A selection of up to `STREAM_LIMIT` images is streamed as it is written (stdlib
`zipfile` on an unseekable sink, so nothing is held in memory but one chunk). Larger
selections become an `Export` that a Celery task writes to storage, reporting progress,
so a request never runs for minutes; its download comes from the same storage (on S3,
a presigned link to the bucket). Entries are the PNGs (already compressed, so they
are stored, not deflated) under readable names made from each prompt.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action
from generations import selectors, storage
from generations.models import Export, Generation, Stage
from generations.worker import queue

log = logging.getLogger(__name__)

STREAM_LIMIT = 50
CHUNK = 256 * 1024
EXPORT_TTL = timedelta(days=1)


def member_names(generations: Sequence[Generation]) -> list[str]:
    """One unique, readable file name per generation: the download name, numbered on clashes."""
    seen: set[str] = set()
    names = []
    for g in generations:
        name = storage.download_filename(g, "png")
        stem, _, ext = name.rpartition(".")
        n = 2
        while name in seen:
            name = f"{stem}-{n}.{ext}"
            n += 1
        seen.add(name)
        names.append(name)
    return names


def zippable(generations: Iterable[Generation]) -> list[Generation]:
    """The completed generations that still have a PNG to put in a ZIP."""
    return [g for g in generations if g.stage == Stage.COMPLETED and g.image_png]


class _Sink:
    """A write-only, unseekable file object that collects what zipfile writes."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass  # zipfile leaves a file object it was given open; this completes its writable-file protocol

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _write_members(archive: zipfile.ZipFile, generations: Sequence[Generation]) -> Iterator[None]:
    """Write each PNG into `archive`, yielding after every chunk so the caller can drain."""
    for g, name in zip(generations, member_names(generations), strict=True):
        if not default_storage.exists(g.image_png):
            log.warning("zip: %s has no file %s; skipped", g.public_id, g.image_png)
            continue
        info = zipfile.ZipInfo(name, date_time=timezone.localtime(g.created_at).timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        with default_storage.open(g.image_png, "rb") as source, archive.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(CHUNK):
                target.write(chunk)
                yield
        yield


def stream(generations: Sequence[Generation]) -> Iterator[bytes]:
    """The bytes of a ZIP of `generations`' PNGs, produced as they are written."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w") as archive:
        for _ in _write_members(archive, generations):
            if sink.offset and sink.parts:
                yield sink.take()
    if sink.parts:
        yield sink.take()


def archive_name(count: int) -> str:
    return f"studio-{count}-images-{timezone.localtime():%Y%m%d-%H%M}.zip"


# --- Exports built by a worker --------------------------------------------------------------


def start_export(*, user: User, generations: Sequence[Generation]) -> Export:
    """Record an export of the completed generations `user` may download, and queue it once committed."""
    own = zippable(selectors.allowed(user, generations, Action.DOWNLOAD))
    with transaction.atomic():
        export = Export.objects.create(user=user, generation_ids=[g.pk for g in own], total=len(own))
        queue.build_export(export.pk)
    return export


def build_export(export_id: int) -> None:
    """Write an export's ZIP to storage, counting progress. Idempotent: a finished export is left alone."""
    claimed = Export.objects.filter(pk=export_id, state__in=[Export.State.PENDING, Export.State.BUILDING]).update(
        state=Export.State.BUILDING, done=0
    )
    if not claimed:
        return
    export = Export.objects.get(pk=export_id)
    # Checked again here: a member who left the team meanwhile gets none of its images.
    by_pk = selectors.visible_generations(export.user).in_bulk(export.generation_ids)
    generations = zippable(by_pk[pk] for pk in export.generation_ids if pk in by_pk)
    try:
        with tempfile.TemporaryFile() as out:
            with zipfile.ZipFile(out, mode="w") as archive:
                current = None
                for _ in _write_members(archive, generations):
                    # One progress write per finished member, not per chunk.
                    if archive.filelist and archive.filelist[-1] is not current:
                        current = archive.filelist[-1]
                        Export.objects.filter(pk=export_id).update(done=F("done") + 1)
            size = out.tell()
            out.seek(0)
            name = f"exports/{export.public_id}.zip"
            name = default_storage.save(name, storage.TypedFile(out, name, content_type="application/zip"))
    except Exception as exc:
        log.exception("export %s failed", export.public_id)
        Export.objects.filter(pk=export_id).update(
            state=Export.State.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        return
    Export.objects.filter(pk=export_id).update(
        state=Export.State.READY, file=name, size=size, done=len(generations), total=len(generations),
        finished_at=timezone.now(),
    )  # fmt: skip


def export_for_user(user: User, public_id: str) -> Export:
    """The user's export, or 404 for anyone else's."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Export, user=user, public_id=public_id)


def delete_expired_exports() -> int:
    """Remove exports (and their files) older than a day. Returns how many went."""
    old = list(Export.objects.filter(created_at__lt=timezone.now() - EXPORT_TTL))
    for export in old:
        if export.file and default_storage.exists(export.file):
            default_storage.delete(export.file)
    Export.objects.filter(pk__in=[e.pk for e in old]).delete()
    return len(old)
