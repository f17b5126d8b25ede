"""POST /v1/images/batch/{batch_id}/cancel, over HTTP: what it cancels, refunds and leaves alone."""

import json

import pytest
from django.core.files.storage import default_storage

from accounts import ledger
from accounts.models import LedgerEntry, Membership, Role
from generations.models import Batch, Generation, Stage, WebhookDelivery, WebhookEvent
from tests.api_support import MODEL, assert_error, render
from tests.conftest import wait_for
from tests.studio_factories import make_team

HOOK = "https://hooks.example/batch-complete"


def item(prompt: str = "Minimalist logo design, blue circle with lightning bolt", **fields: object) -> dict:
    return {"prompt": prompt, "model": MODEL, "aspect_ratio": "1:1", "deep_thinking": False, **fields}


def submit(acct, *items: dict, **body: object) -> tuple[str, list[Generation]]:
    reply = acct.http.post("/images/batch", json={"generations": list(items), **body})
    assert reply.status_code == 200, reply.text
    batch_id = reply.json()["batch_id"]
    return batch_id, list(Generation.objects.filter(batch__public_id=batch_id).order_by("batch_index"))


def cancel(acct, batch_id: str):
    return acct.http.post(f"/images/batch/{batch_id}/cancel")


def test_cancel_refunds_exactly_the_unfinished_items_and_finishes_the_batch(account):
    acct = account(credits=1000)
    batch_id, (done, broken, rendering, queued) = submit(
        acct, item(), item(model="broken"), item(), item(), webhook_url=HOOK
    )
    assert ledger.balance(acct.user) == 1000 - 4 * 7
    render(done.public_id)
    render(broken.public_id)  # failed: refunded when it failed, not again now
    Generation.objects.filter(pk=rendering.pk).update(stage=Stage.RENDERING, attempts=1, progress=0.4)
    done.refresh_from_db()
    png = done.image_png

    response = cancel(acct, batch_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["canceled"] == 2
    assert body["credits_refunded"] == 14
    assert body["credits_remaining"] == 1000 - 7 == ledger.balance(acct.user) == ledger.ledger_total(acct.user)
    assert body["status"] == "completed"
    assert body["counts"] == {"completed": 1, "failed": 1, "canceled": 2, "processing": 0}
    assert [r["status"] for r in body["results"]] == ["completed", "failed", "canceled", "canceled"]
    assert body["results"][2]["error_code"] == "canceled" and body["results"][2]["image_url"] is None
    # The rest is the batch status object, as GET /v1/images/batch/{id} answers it now.
    polled = acct.http.get(f"/images/batch/{batch_id}").json()
    assert {k: v for k, v in body.items() if k not in ("canceled", "credits_refunded", "credits_remaining")} == polled
    assert Batch.objects.get(public_id=batch_id).finished_at is not None

    # The finished item keeps its charge and its files; each canceled one is refunded once.
    done.refresh_from_db()
    assert done.stage == Stage.COMPLETED and done.image_png == png and default_storage.exists(png)
    assert not LedgerEntry.objects.filter(generation_public_id=done.public_id, kind="refund").exists()
    for g in (broken, rendering, queued):
        assert LedgerEntry.objects.filter(generation_public_id=g.public_id, kind="refund").count() == 1
    # The batch ended as any batch ends: one batch.completed webhook, whose counts say what happened.
    [event] = WebhookDelivery.objects.filter(batch__public_id=batch_id, event=WebhookEvent.BATCH_COMPLETED)
    sent = json.loads(event.body)
    assert sent["counts"] == {"completed": 1, "failed": 1, "canceled": 2}
    assert [r["status"] for r in sent["results"]] == ["completed", "failed", "canceled", "canceled"]
    # and each canceled image its own image.failed event with status canceled.
    canceled_events = WebhookDelivery.objects.filter(
        generation__in=[rendering, queued], event=WebhookEvent.IMAGE_FAILED
    )
    assert sorted(json.loads(e.body)["status"] for e in canceled_events) == ["canceled", "canceled"]


def test_a_second_cancel_answers_409_and_changes_nothing(account):
    acct = account(credits=100)
    batch_id, _ = submit(acct, item(), item())
    assert cancel(acct, batch_id).json()["canceled"] == 2
    balance, entries = ledger.balance(acct.user), LedgerEntry.objects.count()

    message = assert_error(cancel(acct, batch_id), 409, "not_cancelable")

    assert batch_id in message
    assert ledger.balance(acct.user) == balance == 100 == ledger.ledger_total(acct.user)
    assert LedgerEntry.objects.count() == entries


def test_a_batch_whose_items_all_finished_is_not_cancelable(account):
    acct = account(credits=100)
    batch_id, items = submit(acct, item(), item())
    for g in items:
        render(g.public_id)
    finished_at = Batch.objects.get(public_id=batch_id).finished_at

    assert_error(cancel(acct, batch_id), 409, "not_cancelable")

    assert ledger.balance(acct.user) == 100 - 14 == ledger.ledger_total(acct.user)
    assert set(Generation.objects.values_list("stage", flat=True)) == {Stage.COMPLETED}
    assert Batch.objects.get(public_id=batch_id).finished_at == finished_at


def test_someone_elses_batch_and_an_unknown_id_are_not_found(account):
    owner, stranger = account(), account()
    batch_id, _ = submit(owner, item())

    assert_error(cancel(stranger, batch_id), 404, "not_found")
    assert_error(cancel(stranger, "batch_000000000000000000000000"), 404, "not_found")

    assert Generation.objects.get(batch__public_id=batch_id).stage == Stage.QUEUED
    assert ledger.balance(owner.user) == 1000 - 7


def test_in_a_team_an_editor_may_cancel_and_a_viewer_may_not(account):
    owner, editor, viewer = account(), account(), account()
    team = make_team(owner.user)
    Membership.objects.create(team=team, user=editor.user, role=Role.EDITOR)
    Membership.objects.create(team=team, user=viewer.user, role=Role.VIEWER)
    batch_id, _ = submit(owner, item(), item(), team=team.public_id)

    assert_error(cancel(viewer, batch_id), 403, "forbidden")
    assert set(Generation.objects.values_list("stage", flat=True)) == {Stage.QUEUED}

    body = cancel(editor, batch_id).json()
    assert body["canceled"] == 2 and body["credits_refunded"] == 14
    assert body["credits_remaining"] == 1000 == ledger.balance(editor.user)  # the editor paid nothing
    assert ledger.balance(owner.user) == 1000 == ledger.ledger_total(owner.user)  # the refund is the owner's


def test_the_endpoint_is_in_the_openapi_document(account):
    acct = account()
    paths = acct.http.get("/openapi.json").json()["paths"]
    operation = paths["/v1/images/batch/{batch_id}/cancel"]["post"]
    assert operation["operationId"] == "cancelBatch"
    assert {"200", "403", "404", "409"} <= set(operation["responses"])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rendering_a_canceled_batch_drops_its_result(account, start_worker):
    acct = account(credits=1000)
    slow = json.dumps({MODEL: {"engine": "fake", "options": {"step_delay": 0.8}}})
    worker = start_worker(STUDIO_MODELS_JSON=slow, STUDIO_PROGRESS_MIN_INTERVAL="0", STUDIO_HEARTBEAT_SECONDS="0.2")
    batch_id, _ = submit(acct, *(item(f"Poster number {i}") for i in range(5)))

    def one_done_one_rendering() -> Generation | None:
        rows = list(Generation.objects.filter(batch__public_id=batch_id))
        if not any(g.stage == Stage.COMPLETED for g in rows):
            return None
        # Early in its render, so that the cancel lands while it still renders.
        return next((g for g in rows if g.stage == Stage.RENDERING and 0 < g.progress < 0.5), None)

    in_flight = wait_for(
        one_done_one_rendering, timeout=90, interval=0.05, message=f"a render under way; log:\n{worker.log()}"
    )
    assert isinstance(in_flight, Generation)
    response = cancel(acct, batch_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed" and body["counts"]["processing"] == 0

    # The worker notices at its next progress step or heartbeat and drops what it made.
    wait_for(
        lambda: (
            f"generation {in_flight.public_id} was canceled or taken over during render" in worker.log()
            or f"generation {in_flight.public_id} finished elsewhere" in worker.log()
        ),
        timeout=30,
        message=f"the worker to drop its render; log:\n{worker.log()}",
    )
    rows = {g.public_id: g for g in Generation.objects.filter(batch__public_id=batch_id)}
    assert not any(g.stage in (Stage.QUEUED, Stage.RENDERING) for g in rows.values())
    dropped = rows[in_flight.public_id]
    assert dropped.stage == Stage.CANCELED and dropped.image_png == ""
    completed = [g for g in rows.values() if g.stage == Stage.COMPLETED]
    canceled = [g for g in rows.values() if g.stage == Stage.CANCELED]
    assert body["canceled"] == len(canceled) and body["credits_refunded"] == 7 * len(canceled)
    assert ledger.balance(acct.user) == 1000 - 7 * len(completed) == ledger.ledger_total(acct.user)
    assert body["credits_remaining"] == 1000 - 7 * len(completed)
