"""Every state change of a generation after it was submitted, each one conditional.

A generation moves forward only by a conditional `UPDATE … WHERE stage = …`, so of two
processes that race (two workers, a worker and a cancel, a worker and the sweeper) one
wins and the other learns it lost. Ending a generation is one transaction: the stage,
the refund (through the ledger) and the webhook delivery it owes are written together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts import ledger
from generations.models import UNFINISHED, Batch, Generation, Stage
from generations.webhooks import events as webhook_events
from generations.worker import queue


def stale_before() -> datetime:
    """A rendering claim whose heartbeat is older than this belongs to a worker that died."""
    return timezone.now() - timedelta(seconds=settings.STUDIO_RENDER_STALE_SECONDS)


def claim(generation_id: int) -> Generation | None:
    """Take a generation for rendering: queued, or left rendering by a worker that died.

    A conditional update, so of two workers only one wins; the loser gets None.
    """
    now = timezone.now()
    claimable = Q(stage=Stage.QUEUED) | Q(stage=Stage.RENDERING, heartbeat_at__lt=stale_before())
    won = Generation.objects.filter(claimable, pk=generation_id, deadline_at__gt=now).update(
        stage=Stage.RENDERING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        progress=0.0,
        progress_note="starting",
    )
    if not won:
        return None
    return Generation.objects.get(pk=generation_id)


def _ours(generation: Generation) -> QuerySet[Generation]:
    """This attempt's claim: still rendering, and not taken over since."""
    return Generation.objects.filter(pk=generation.pk, stage=Stage.RENDERING, attempts=generation.attempts)


def heartbeat(generation: Generation) -> bool:
    """Say this worker is still rendering. False when the generation is no longer ours."""
    return bool(_ours(generation).update(heartbeat_at=timezone.now()))


def record_progress(generation: Generation, fraction: float, note: str) -> bool:
    """Store progress. False when the generation was canceled or taken over meanwhile."""
    return bool(
        _ours(generation).update(
            progress=max(0.0, min(1.0, fraction)), progress_note=note[:100], heartbeat_at=timezone.now()
        )
    )


def complete(generation: Generation, *, files: dict[str, str], plan: dict, info: dict, seconds: float) -> bool:
    """Record a finished render and notify its webhook. False if this attempt no longer owns it."""
    with transaction.atomic():
        won = _ours(generation).update(
            stage=Stage.COMPLETED,
            progress=1.0,
            progress_note="done",
            finished_at=timezone.now(),
            image_png=files["png"],
            image_webp=files["webp"],
            thumbnail=files["thumbnail"],
            file_size=int(files.get("png_size", 0)),
            plan=plan,
            render_info=info,
            render_seconds=seconds,
        )
        if not won:
            return False
        _finished(Generation.objects.get(pk=generation.pk))
    return True


def ended_without_files(generation: Generation) -> bool:
    """Whether `generation` was canceled, failed or deleted: ended for good, pointing at no file."""
    stage = Generation.objects.filter(pk=generation.pk).values_list("stage", flat=True).first()
    return stage is None or stage in (Stage.CANCELED, Stage.FAILED)


def requeue(generation: Generation, *, delay_seconds: float = 0) -> bool:
    """Give a claimed generation back to the queue (a transient engine fault), to run again
    after `delay_seconds`: a provider that is rate limiting or down gets a moment first."""
    with transaction.atomic():
        moved = _ours(generation).update(
            # Due when its delay ends: the sweeper does not take a waiting retry for a lost message.
            stage=Stage.QUEUED,
            enqueued_at=timezone.now() + timedelta(seconds=delay_seconds),
            progress=0.0,
            progress_note="retrying",
        )
        if moved:
            queue.render([generation.pk], countdown=delay_seconds)
    return bool(moved)


def end_unfinished(generation_id: int, *, stage: str, code: str, message: str, note: str) -> Generation | None:
    """Move an unfinished generation to failed/canceled, refund it and notify, once.

    None if it had already finished.
    """
    with transaction.atomic():
        moved = Generation.objects.filter(pk=generation_id, stage__in=UNFINISHED).update(
            stage=stage,
            error_code=code,
            error_message=message[:500],
            finished_at=timezone.now(),
        )
        if not moved:
            return None
        generation = Generation.objects.get(pk=generation_id)
        ledger.refund(generation=generation, note=note)
        _finished(generation)
    return generation


def fail(*, generation_id: int, code: str, message: str) -> Generation | None:
    """Fail an unfinished generation and refund it. None if it had already finished."""
    return end_unfinished(generation_id, stage=Stage.FAILED, code=code, message=message, note=f"Refund: {code}")


def close_batch_if_done(batch_id: int) -> bool:
    """Close a batch whose items have all finished, and notify its webhook, once. True if this call closed it."""
    if Generation.objects.filter(batch_id=batch_id, stage__in=UNFINISHED).exists():
        return False
    if not Batch.objects.filter(pk=batch_id, finished_at__isnull=True).update(finished_at=timezone.now()):
        return False
    webhook_events.record_batch_event(Batch.objects.get(pk=batch_id))
    return True


def _finished(generation: Generation) -> None:
    """After a generation reached a final stage, inside its transaction: its webhook, then its batch."""
    webhook_events.record_image_event(generation)
    if generation.batch_id:
        close_batch_if_done(generation.batch_id)
