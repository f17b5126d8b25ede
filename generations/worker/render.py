"""Render one generation: claim, engine, files, complete (or requeue, or fail and refund)."""

from __future__ import annotations

import logging
import threading
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection

from generations import provenance, storage
from generations.engines import EngineError, engine_for_model
from generations.models import Generation
from generations.worker import transitions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def retry_delay(attempts: int) -> int:
    """Seconds before another try after a transient fault: 2, 4, 8 … (at most 30)."""
    return min(30, 2**attempts)


class _Abandoned(Exception):
    """The generation was canceled or taken over while this worker rendered it."""


class _Heartbeat(threading.Thread):
    """Touches the generation every few seconds while the engine works, so the sweeper
    can tell a slow render from a dead worker."""

    def __init__(self, generation: Generation) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{generation.pk}")
        self.generation = generation
        self.stopped = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.STUDIO_HEARTBEAT_SECONDS):
                if not transitions.heartbeat(self.generation):
                    self.lost.set()
                    return
        finally:
            connection.close()


class _Progress:
    """The engine's progress callback: writes at a bounded rate, notices cancellation."""

    def __init__(self, generation: Generation, heartbeat: _Heartbeat) -> None:
        self.generation = generation
        self.heartbeat = heartbeat
        self.last_write = 0.0

    def __call__(self, fraction: float, note: str) -> None:
        if self.heartbeat.lost.is_set():
            raise _Abandoned
        now = time.monotonic()
        if now - self.last_write < settings.STUDIO_PROGRESS_MIN_INTERVAL and fraction < 1.0:
            return
        self.last_write = now
        # The final 1.0 is written by `complete`, with the files.
        if fraction < 1.0 and not transitions.record_progress(self.generation, fraction, note):
            raise _Abandoned


def render(generation_id: int) -> None:
    """Render one generation. Returns at once if it is finished or another worker has it."""
    generation = transitions.claim(generation_id)
    if generation is None:
        return
    heartbeat = _Heartbeat(generation)
    heartbeat.start()
    started = time.monotonic()
    try:
        engine = engine_for_model(generation.model)
        result = engine.render(generation.to_spec(), _Progress(generation, heartbeat))
        seconds = time.monotonic() - started
        image = result.image.convert("RGB")
        if image.size != (generation.width, generation.height):
            raise EngineError(
                f"engine returned {image.size[0]}x{image.size[1]}, not {generation.width}x{generation.height}"
            )
        text_composited = bool((result.plan.get("text_overlay") or {}).get("applied"))
        source_type = provenance.source_type(neural=engine.neural, text_composited=text_composited)
        files = storage.save_images(generation, image, generation.embedded_parameters(), source_type=source_type)
        info = {**result.info, "engine_label": engine.label}
        if not transitions.complete(generation, files=files, plan=result.plan, info=info, seconds=seconds):
            log.info(
                "generation %s finished elsewhere; result of attempt %s dropped",
                generation.public_id,
                generation.attempts,
            )
            if transitions.ended_without_files(generation):
                # Canceled, failed or deleted while these were written: nothing will ever point at
                # them. (Completed or rendering elsewhere: the same names are another attempt's.)
                storage.delete_files(files[kind] for kind in storage.KINDS)
    except _Abandoned:
        log.info("generation %s was canceled or taken over during render", generation.public_id)
    except EngineError as exc:
        if exc.transient and generation.attempts < MAX_ATTEMPTS:
            delay = retry_delay(generation.attempts)
            log.warning("generation %s: transient engine error, retried in %ss: %s", generation.public_id, delay, exc)
            transitions.requeue(generation, delay_seconds=delay)
        else:
            transitions.fail(generation_id=generation.pk, code=exc.code, message=str(exc))
    except SoftTimeLimitExceeded:
        transitions.fail(generation_id=generation.pk, code="generation_failed", message="Timed out while rendering.")
    except Exception:
        log.exception("generation %s failed", generation.public_id)
        transitions.fail(
            generation_id=generation.pk,
            code="generation_failed",
            message="Internal generation error. Retry the request.",
        )
    finally:
        heartbeat.stopped.set()
