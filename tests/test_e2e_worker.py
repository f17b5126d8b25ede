"""The whole path with a real `celery worker` process on the embedded broker."""

import json

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from accounts import ledger
from accounts.models import LedgerEntry
from generations import services
from generations.models import Generation
from tests.conftest import wait_for
from tests.helpers import spec

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_renders_a_submitted_image_to_completion(make_user, start_worker):
    user = make_user()
    worker = start_worker()
    g = services.submit(user=user, spec=spec(prompt="Poster with text 'OPEN LATE'", aspect_ratio="9:16")).generations[0]

    wait_for(
        lambda: Generation.objects.get(pk=g.pk).is_finished, timeout=60, message=f"completion; log:\n{worker.log()}"
    )
    g.refresh_from_db()
    assert g.status == "completed", g.error_message
    assert Image.open(default_storage.open(g.image_png)).size == (768, 1360)
    assert ledger.balance(user) == 43 == ledger.ledger_total(user)


def test_a_worker_killed_mid_render_is_replaced_and_the_image_completes_charged_once(make_user, start_worker):
    user = make_user()
    slow = json.dumps({"seedream-5.0-lite": {"engine": "fake", "options": {"step_delay": 0.6}}})
    fast_recovery = {
        "STUDIO_MODELS_JSON": slow,
        "STUDIO_HEARTBEAT_SECONDS": "0.3",
        "STUDIO_RENDER_STALE_SECONDS": "2",
        "STUDIO_SWEEP_INTERVAL_SECONDS": "0.5",
        "STUDIO_PROGRESS_MIN_INTERVAL": "0",
    }
    first = start_worker(**fast_recovery)
    g = services.submit(user=user, spec=spec()).generations[0]
    wait_for(
        lambda: Generation.objects.filter(pk=g.pk, stage="rendering", progress__gt=0).exists(),
        timeout=60,
        message=f"the first worker to start rendering; log:\n{first.log()}",
    )

    first.kill()
    assert Generation.objects.get(pk=g.pk).stage == "rendering"  # left behind by the dead worker

    second = start_worker(**fast_recovery, WITH_BEAT="1")
    wait_for(
        lambda: Generation.objects.get(pk=g.pk).is_finished,
        timeout=90,
        message=f"recovery; log:\n{second.log()}",
    )
    g.refresh_from_db()
    assert g.status == "completed", g.error_message
    assert g.attempts == 2
    assert LedgerEntry.objects.filter(generation_public_id=g.public_id, kind="charge").count() == 1
    assert not LedgerEntry.objects.filter(generation_public_id=g.public_id, kind="refund").exists()
    assert ledger.balance(user) == 43 == ledger.ledger_total(user)
