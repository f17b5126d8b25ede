"""The safety net: find work that is stuck and move it on. Safe to run anywhere, any number of times."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generations.models import UNFINISHED, Batch, Generation, IdempotencyRecord, Stage
from generations.worker import queue
from generations.worker.transitions import close_batch_if_done, fail, stale_before

log = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """One pass of the sweeper (Celery beat runs it every `STUDIO_SWEEP_INTERVAL_SECONDS`).

    - not finished by its deadline (including a batch's 5 minutes): fail and refund;
    - rendering with no heartbeat (a killed worker): back to the queue;
    - queued but not picked up for a while (a lost message): enqueue again. With the render
      queue empty, a generation still queued after STUDIO_LOST_MESSAGE_SECONDS has no message
      (a worker died between taking it and claiming it): sent again at once. With a backlog,
      after STUDIO_REQUEUE_AFTER_SECONDS. A message sent twice costs one claim that loses;
    - a batch whose items all finished but was not closed: close it;
    - the API's Idempotency-Key replies older than 24 hours: delete them.
    """
    now = timezone.now()
    counts = {"requeued": 0, "recovered": 0, "timed_out": 0, "batches_closed": 0}

    for pk in Generation.objects.filter(stage__in=UNFINISHED, deadline_at__lte=now).values_list("pk", flat=True):
        if fail(generation_id=pk, code="generation_failed", message="Timed out before the image was finished."):
            counts["timed_out"] += 1

    stale = Generation.objects.filter(stage=Stage.RENDERING, heartbeat_at__lt=stale_before(), deadline_at__gt=now)
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            if Generation.objects.filter(pk=pk, stage=Stage.RENDERING, heartbeat_at__lt=stale_before()).update(
                stage=Stage.QUEUED, enqueued_at=now, progress=0.0, progress_note="recovered after a worker stopped"
            ):
                queue.render([pk])
                counts["recovered"] += 1

    idle = queue.render_backlog() == 0
    lost_after = settings.STUDIO_LOST_MESSAGE_SECONDS if idle else settings.STUDIO_REQUEUE_AFTER_SECONDS
    lost_before = now - timedelta(seconds=lost_after)
    for pk in Generation.objects.filter(stage=Stage.QUEUED, enqueued_at__lt=lost_before).values_list("pk", flat=True):
        with transaction.atomic():
            if Generation.objects.filter(pk=pk, stage=Stage.QUEUED, enqueued_at__lt=lost_before).update(
                enqueued_at=now
            ):
                queue.render([pk])
                counts["requeued"] += 1

    for batch_id in Batch.objects.filter(finished_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            if close_batch_if_done(batch_id):
                counts["batches_closed"] += 1

    pruned = IdempotencyRecord.delete_expired()
    if pruned:
        log.info("sweep: deleted %d Idempotency-Key records older than 24 hours", pruned)
    return counts
