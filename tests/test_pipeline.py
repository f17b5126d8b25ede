"""The worker side, in process: render, store, complete; failures refund."""

import io
import json

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import Image

from accounts import ledger
from generations import services, storage
from generations.models import Generation
from generations.worker import render as pipeline
from generations.worker import transitions
from tests.helpers import spec


def fake_models(**options):
    return override_settings(STUDIO_MODELS={"seedream-5.0-lite": {"engine": "fake", "options": options}})


@fake_models()
def test_render_stores_png_webp_and_thumbnail_with_embedded_parameters(make_user):
    user = make_user()
    g = services.submit(user=user, spec=spec(aspect_ratio="3:2", colors=["#123456"], seed=7)).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert (g.status, g.progress, g.attempts) == ("completed", 1.0, 1)
    assert g.render_seconds is not None and g.plan == {"fake": True}

    png = Image.open(default_storage.open(g.image_png))
    assert (png.format, png.size) == ("PNG", (1248, 832))
    assert png.info["parameters"].startswith("A serene mountain landscape at sunrise\nNegative prompt: \nSteps: 1")
    assert "Seed: 7, Size: 1248x832, Model: seedream-5.0-lite" in png.info["parameters"]
    embedded = json.loads(png.info["studio"])
    assert embedded["seed"] == 7 and embedded["engine"] == "fake" and embedded["colors"] == ["#123456"]
    assert embedded["task_id"] == g.public_id

    webp = Image.open(default_storage.open(g.image_webp))
    assert (webp.format, webp.size) == ("WEBP", (1248, 832))
    thumb = Image.open(io.BytesIO(default_storage.open(g.thumbnail).read()))
    assert thumb.format == "WEBP" and max(thumb.size) == 384
    assert ledger.balance(user) == 43


@fake_models()
def test_rendering_a_finished_generation_again_does_nothing(make_user):
    g = services.submit(user=make_user(), spec=spec()).generations[0]
    pipeline.render(g.pk)
    finished = Generation.objects.get(pk=g.pk).finished_at
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert g.attempts == 1 and g.finished_at == finished


@fake_models(fail="permanent")
def test_an_engine_failure_fails_the_generation_and_refunds_it(make_user):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert (g.status, g.error_code) == ("failed", "generation_failed")
    assert "told to fail" in g.error_message
    assert ledger.balance(user) == 50 == ledger.ledger_total(user)
    assert not g.image_png


@fake_models(fail="transient")
def test_a_transient_engine_fault_goes_back_on_the_queue_then_fails_after_three_attempts(make_user):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert (g.stage, g.attempts) == ("queued", 1)
    pipeline.render(g.pk)
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert (g.status, g.attempts) == ("failed", 3)
    assert ledger.balance(user) == 50


@fake_models(fail="transient")
def test_a_transient_fault_is_retried_after_a_growing_pause(make_user, monkeypatch, django_capture_on_commit_callbacks):
    from generations import tasks

    sent = []
    monkeypatch.setattr(tasks.render, "apply_async", lambda args, countdown=None: sent.append((args, countdown)))
    g = services.submit(user=make_user(), spec=spec()).generations[0]
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.render(g.pk)
    assert sent == [((g.pk,), 2), ((g.pk,), 4)]
    assert [pipeline.retry_delay(n) for n in (1, 2, 3, 5, 9)] == [2, 4, 8, 30, 30]


@fake_models()
def test_a_generation_canceled_mid_render_stays_canceled_and_refunded(make_user, monkeypatch):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    real = transitions.record_progress

    def cancel_then_record(generation, fraction, note):
        services.cancel(user=generation.user, generation=generation)
        return real(generation, fraction, note)

    monkeypatch.setattr(transitions, "record_progress", cancel_then_record)
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert g.status == "canceled" and not g.image_png
    assert ledger.balance(user) == 50 == ledger.ledger_total(user)


@fake_models()
@pytest.mark.parametrize("how", ["canceled", "deleted"])
def test_files_written_for_an_image_that_ended_meanwhile_are_not_left_behind(make_user, monkeypatch, how):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    real = storage.save_images
    written: dict = {}

    def save_then_end(generation, *args, **kwargs):
        written.update(real(generation, *args, **kwargs))
        if how == "canceled":  # lands after the files are stored, before the render completes
            services.cancel(user=user, generation=generation)
        else:
            services.delete(user=user, generations=[generation])
        return written

    monkeypatch.setattr(storage, "save_images", save_then_end)
    pipeline.render(g.pk)
    assert written["png"] and written["webp"] and written["thumbnail"]
    assert not any(default_storage.exists(written[kind]) for kind in ("png", "webp", "thumbnail"))


@fake_models()
def test_a_dropped_result_keeps_the_files_when_another_attempt_completed_under_the_same_names(make_user, monkeypatch):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    real = storage.save_images

    def save_then_lose(generation, *args, **kwargs):
        files = real(generation, *args, **kwargs)
        Generation.objects.filter(pk=generation.pk).update(stage="completed", image_png=files["png"])
        return files

    monkeypatch.setattr(storage, "save_images", save_then_lose)
    pipeline.render(g.pk)
    assert default_storage.exists(Generation.objects.get(pk=g.pk).image_png)


@pytest.mark.parametrize("ratio", ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2"])
def test_the_default_typeset_engine_renders_every_ratio_end_to_end(make_user, ratio):
    g = services.submit(user=make_user(), spec=spec(aspect_ratio=ratio, prompt="Poster 'HELLO'")).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert g.status == "completed", g.error_message
    assert Image.open(default_storage.open(g.image_png)).size == (g.width, g.height)
