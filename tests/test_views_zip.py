"""Downloading a selection as a ZIP: streamed for a few images, built by a worker task for many."""

from __future__ import annotations

import io
import re
import zipfile

from django.core.files.storage import default_storage
from django.urls import reverse

from generations import exports
from generations.models import Export, Stage
from tests.helpers import broker_refusing_messages
from tests.studio_factories import make_generation

SELECTION = "/selection"


def test_a_small_selection_streams_a_zip_of_the_pngs_with_readable_unique_names(logged_in, user, make_user):
    a = make_generation(user, prompt="Blue whale", colors=["#0000ff"])
    b = make_generation(user, prompt="Blue whale", colors=["#00ff00"])
    c = make_generation(user, prompt="Red fox!", colors=["#ff0000"])
    pending = make_generation(user, stage=Stage.QUEUED)
    theirs = make_generation(make_user(), prompt="not yours")
    ids = [g.public_id for g in (a, b, c, pending, theirs)]
    response = logged_in.post(SELECTION, {"action": "zip", "ids": ids})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert re.match(r'attachment; filename="studio-3-images-\d{8}-\d{4}\.zip"', response["Content-Disposition"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert len(names) == len(set(names)) == 3
    by_name = {name: archive.read(name) for name in names}
    for g in (a, b, c):
        match = [n for n in names if by_name[n] == default_storage.open(g.image_png).read()]
        assert len(match) == 1, f"{g.prompt} is in the ZIP exactly once"
    assert f"red-fox-{c.public_id[-6:]}.png" in names
    assert all(n.endswith(".png") and n.startswith("blue-whale-") for n in names if "fox" not in n)


def test_stream_produces_the_archive_in_several_chunks(user):
    gens = [make_generation(user, prompt=f"p{i}") for i in range(3)]
    chunks = list(exports.stream(gens))
    assert len(chunks) > 1, "written as it goes, not built in memory first"
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).namelist() == exports.member_names(gens)


def test_member_names_number_clashes(user):
    gens = [make_generation(user, prompt="Same", files=False) for _ in range(3)]
    gens[1].public_id = gens[0].public_id  # force the same download name
    gens[2].public_id = gens[0].public_id
    stem = f"same-{gens[0].public_id[-6:]}"
    assert exports.member_names(gens) == [f"{stem}.png", f"{stem}-2.png", f"{stem}-3.png"]


def test_a_selection_with_nothing_finished_explains_instead_of_an_empty_zip(logged_in, user):
    pending = make_generation(user, stage=Stage.RENDERING)
    response = logged_in.post(SELECTION, {"action": "zip", "ids": [pending.public_id]}, follow=True)
    assert "nothing to download" in response.content.decode()


def test_a_large_selection_becomes_an_export_built_by_a_task(logged_in, user, monkeypatch,
                                                             django_capture_on_commit_callbacks):  # fmt: skip
    monkeypatch.setattr(exports, "STREAM_LIMIT", 2)
    queued = []
    monkeypatch.setattr("generations.tasks.build_export.apply_async", lambda args, **_: queued.extend(args))
    gens = [make_generation(user, prompt=f"image {i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(SELECTION, {"action": "zip", "ids": [g.public_id for g in gens]})
    export = Export.objects.get()
    assert response["Location"] == reverse("generations:export", args=[export.public_id])
    assert queued == [export.pk] and (export.state, export.total) == ("pending", 3)

    waiting = logged_in.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in waiting and "every 1s" in waiting

    exports.build_export(export.pk)
    export.refresh_from_db()
    assert (export.state, export.done, export.total) == ("ready", 3, 3)
    status = logged_in.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in status and "Download ZIP" in status
    download = logged_in.get(reverse("generations:export_download", args=[export.public_id]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == sorted(exports.member_names(gens))


def test_building_an_export_twice_is_harmless(user):
    gens = [make_generation(user) for _ in range(2)]
    export = Export.objects.create(user=user, generation_ids=[g.pk for g in gens], total=2)
    exports.build_export(export.pk)
    first = Export.objects.get(pk=export.pk)
    exports.build_export(export.pk)
    assert Export.objects.get(pk=export.pk).file == first.file and first.state == "ready"


def test_someone_elses_export_is_a_404(logged_in, make_user):
    export = Export.objects.create(user=make_user(), generation_ids=[], total=0)
    assert logged_in.get(reverse("generations:export", args=[export.public_id])).status_code == 404
    assert logged_in.get(reverse("generations:export_download", args=[export.public_id])).status_code == 404


def test_an_export_the_broker_refuses_fails_saying_why_and_the_page_still_answers(
    logged_in, user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "STREAM_LIMIT", 2)
    gens = [make_generation(user, prompt=f"image {i}") for i in range(3)]
    with broker_refusing_messages(), django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(SELECTION, {"action": "zip", "ids": [g.public_id for g in gens]})
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "generations:export", args=[export.public_id]
    )
    assert export.state == "failed" and export.finished_at is not None
    page = logged_in.get(response["Location"]).content.decode()
    assert "the task queue was unavailable, so it never started" in page and "Select the images again" in page
    assert "every 1s" not in page  # it does not poll for an export that will never build
