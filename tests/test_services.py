from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts import ledger
from accounts.ledger import InsufficientCredits
from accounts.models import LedgerEntry
from generations import services
from generations.models import Batch, Generation, Stage
from generations.worker import queue, sweep, transitions
from tests.helpers import spec


def test_submit_charges_seven_and_records_every_parameter(make_user):
    user = make_user()
    submitted = services.submit(user=user, spec=spec(aspect_ratio="16:9", style="watercolor", colors=["#f00"], seed=9))
    g = submitted.generations[0]
    assert g.public_id.startswith("img_") and len(g.public_id) == 28
    assert (g.status, g.stage, g.progress) == ("processing", "queued", 0.0)
    assert (g.width, g.height, g.style, g.colors, g.seed) == (1360, 768, "watercolor", ["#ff0000"], 9)
    assert g.credits_charged == 7
    assert submitted.credits_remaining == 43 == ledger.balance(user)
    assert ledger.ledger_total(user) == 43
    charge = LedgerEntry.objects.get(user=user, kind="charge")
    assert (charge.amount, charge.generation_id) == (-7, g.pk)


def test_a_random_seed_is_recorded_when_none_was_asked_for(make_user):
    g = services.submit(user=make_user(), spec=spec()).generations[0]
    assert isinstance(g.seed, int)


def test_submit_without_enough_credits_creates_nothing(make_user):
    user = make_user(credits=3)
    with pytest.raises(InsufficientCredits):
        services.submit(user=user, spec=spec())
    assert not Generation.objects.exists()
    assert ledger.balance(user) == 3 == ledger.ledger_total(user)


def test_a_batch_is_charged_as_one_and_every_item_is_created(make_user):
    user = make_user(tier="starter", credits=100)
    submitted = services.submit_batch(user=user, specs_=[spec(prompt=f"item {i}") for i in range(3)])
    assert submitted.batch.public_id.startswith("batch_")
    assert [g.batch_index for g in submitted.generations] == [0, 1, 2]
    assert submitted.credits_charged == 21
    assert ledger.balance(user) == 79 == ledger.ledger_total(user)


def test_a_batch_that_cannot_be_paid_charges_nothing_and_creates_nothing(make_user):
    user = make_user(tier="starter", credits=20)  # 3 x 7 = 21
    with pytest.raises(InsufficientCredits) as caught:
        services.submit_batch(user=user, specs_=[spec()] * 3)
    assert caught.value.required == 21
    assert not Batch.objects.exists()
    assert not Generation.objects.exists()
    assert ledger.balance(user) == 20 == ledger.ledger_total(user)


def test_a_batch_over_the_tiers_size_is_refused_naming_the_limit(make_user):
    user = make_user(tier="free", credits=1000)
    with pytest.raises(services.BatchTooLarge, match="free tier's batch size of 5"):
        services.submit_batch(user=user, specs_=[spec()] * 6)
    with pytest.raises(services.BatchTooLarge, match="maximum of 50"):
        services.submit_batch(user=make_user(tier="enterprise", credits=1000), specs_=[spec()] * 51)
    assert not Generation.objects.exists()


def test_at_most_five_batches_run_at_once(make_user):
    user = make_user(tier="pro", credits=1000)
    for _ in range(5):
        services.submit_batch(user=user, specs_=[spec()])
    with pytest.raises(services.RateLimited):
        services.submit_batch(user=user, specs_=[spec()])
    assert Batch.objects.count() == 5


def test_single_generations_in_flight_are_limited_by_tier(make_user):
    user = make_user(tier="free", credits=1000)  # 2 concurrent
    services.submit(user=user, spec=spec())
    services.submit(user=user, spec=spec())
    with pytest.raises(services.RateLimited, match="2 of 2"):
        services.submit(user=user, spec=spec())
    assert Generation.objects.count() == 2


def test_cancel_refunds_once_and_a_finished_generation_cannot_be_canceled(make_user):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    services.cancel(user=g.user, generation=g)
    g.refresh_from_db()
    assert (g.status, g.error_code) == ("canceled", "canceled")
    assert ledger.balance(user) == 50 == ledger.ledger_total(user)
    with pytest.raises(services.NotCancelable):
        services.cancel(user=g.user, generation=g)
    assert ledger.balance(user) == 50
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_fail_refunds_exactly_once_however_often_it_is_called(make_user):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    assert transitions.fail(generation_id=g.pk, code="generation_failed", message="boom")
    assert transitions.fail(generation_id=g.pk, code="generation_failed", message="boom again") is None
    assert ledger.balance(user) == 50 == ledger.ledger_total(user)
    assert LedgerEntry.objects.filter(kind="refund", generation=g).count() == 1


def test_claim_is_won_by_one_worker_only(make_user):
    g = services.submit(user=make_user(), spec=spec()).generations[0]
    first = transitions.claim(g.pk)
    assert first is not None and first.stage == Stage.RENDERING and first.attempts == 1
    assert transitions.claim(g.pk) is None


@override_settings(STUDIO_RENDER_STALE_SECONDS=30)
def test_a_render_without_heartbeat_is_taken_over_and_the_old_attempt_cannot_complete(make_user):
    g = services.submit(user=make_user(), spec=spec()).generations[0]
    old = transitions.claim(g.pk)
    Generation.objects.filter(pk=g.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=31))
    new = transitions.claim(g.pk)
    assert new is not None and new.attempts == 2
    files = {"png": "a.png", "webp": "a.webp", "thumbnail": "a.thumb.webp"}
    assert not transitions.complete(old, files=files, plan={}, info={}, seconds=1.0)
    assert transitions.complete(new, files=files, plan={}, info={}, seconds=1.0)
    g.refresh_from_db()
    assert g.status == "completed"


def test_sweeper_requeues_lost_work_recovers_dead_renders_and_times_out_late_work(make_user):
    user = make_user(tier="pro", credits=1000)
    now = timezone.now()
    lost, dead, late = (services.submit(user=user, spec=spec()).generations[0] for _ in range(3))
    Generation.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(hours=1))
    transitions.claim(dead.pk)
    Generation.objects.filter(pk=dead.pk).update(heartbeat_at=now - timedelta(hours=1))
    Generation.objects.filter(pk=late.pk).update(deadline_at=now - timedelta(seconds=1))

    counts = sweep.sweep()

    assert counts == {"requeued": 1, "recovered": 1, "timed_out": 1, "batches_closed": 0}
    lost.refresh_from_db()
    dead.refresh_from_db()
    late.refresh_from_db()
    assert lost.stage == "queued" and lost.enqueued_at > now - timedelta(minutes=1)
    assert dead.stage == "queued"
    assert (late.status, late.error_code) == ("failed", "generation_failed")
    assert ledger.balance(user) == 1000 - 14 == ledger.ledger_total(user)
    assert sweep.sweep() == {"requeued": 0, "recovered": 0, "timed_out": 0, "batches_closed": 0}


def test_a_batch_not_finished_in_five_minutes_fails_its_unfinished_items_and_closes(make_user):
    user = make_user(tier="starter", credits=100)
    submitted = services.submit_batch(user=user, specs_=[spec()] * 2)
    first, second = submitted.generations
    assert first.deadline_at <= submitted.batch.created_at + timedelta(minutes=5)
    files = {"png": "a.png", "webp": "a.webp", "thumbnail": "a.thumb.webp"}
    transitions.complete(transitions.claim(first.pk), files=files, plan={}, info={}, seconds=1.0)
    Generation.objects.filter(pk=second.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    sweep.sweep()
    submitted.batch.refresh_from_db()
    second.refresh_from_db()
    assert submitted.batch.finished_at is not None
    assert second.status == "failed"
    assert ledger.balance(user) == 100 - 7 == ledger.ledger_total(user)


@pytest.mark.parametrize(("backlog", "resent"), [(0, 1), (3, 0), (None, 0)])
def test_with_the_render_queue_empty_a_generation_still_queued_is_resent_within_seconds(
    make_user, monkeypatch, backlog, resent
):
    """A worker SIGKILLed between taking a message and claiming it leaves a queued row with no message."""
    user = make_user()
    orphan = services.submit(user=user, spec=spec()).generations[0]
    Generation.objects.filter(pk=orphan.pk).update(enqueued_at=timezone.now() - timedelta(seconds=10))
    monkeypatch.setattr(queue, "render_backlog", lambda: backlog)
    assert sweep.sweep()["requeued"] == resent  # a backlog (or no answer): wait REQUEUE_AFTER, as before


def test_a_retry_waiting_out_its_delay_is_not_taken_for_a_lost_message(make_user, monkeypatch):
    user = make_user()
    g = services.submit(user=user, spec=spec()).generations[0]
    claimed = transitions.claim(g.pk)
    assert claimed is not None and transitions.requeue(claimed, delay_seconds=30)
    monkeypatch.setattr(queue, "render_backlog", lambda: 0)  # the countdown message sits with a worker
    assert sweep.sweep()["requeued"] == 0


@pytest.mark.django_db(transaction=True)
def test_render_backlog_counts_the_messages_waiting_in_the_embedded_broker(settings):
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the embedded broker's folder")
    before = queue.render_backlog()
    assert before is not None
    queue._send(queue.RENDER, 0)
    assert queue.render_backlog() == before + 1
