"""How long unfinished images have left: from the queue ahead of them and measured render times.

The render queue is first in, first out, shared by everyone, and served by a number of
render slots (one per render worker process). So a queued image's wait is what the
slots must finish before one of them is free for it: the images rendering now, then
every image queued ahead of it, each taking its kind's typical render time. `forecast`
plays that queue forward over the slots, in one pass for a whole gallery of tiles.

Both figures are measured, never configured:

- **Render time** of a kind of image (model, deep thinking): the median claim-to-completed
  time of its last 50 completed renders, encoding included.
- **Slots**: the most renders that were in progress at one moment among the last 50 (that
  is how many workers served lately), and never fewer than are rendering now.

Until a kind has rendered once, its time is `DEFAULT_RENDER_SECONDS`.
"""

from __future__ import annotations

import heapq
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from generations.models import Batch, Generation, Stage
from studio.prepared import Prepared

DEFAULT_RENDER_SECONDS = 10.0
SAMPLE = 50
CACHE_SECONDS = 5.0
SETTLED = 10  # renders a measurement must rest on before it is remembered
# A queue longer than this is not played forward row by row: further back, places come from
# one counting query and times from the average of the rows played.
MAX_QUEUE_ROWS = 100

Kind = tuple[str, bool]
_measured: dict[object, tuple[float, float]] = {}


@dataclass(frozen=True)
class Forecast:
    """Where an unfinished image stands: its place in line (None once a worker has it) and the seconds left."""

    position: int | None
    seconds_left: float


def _cached(key: object, measure: Callable[[], tuple[float, int] | None], default: float) -> float:
    """`measure()` (a value and how many renders it rests on), remembered for `CACHE_SECONDS`
    in this process (a gallery poll asks once a second) once it rests on `SETTLED` renders
    or more; `default` while there is nothing to measure. Below `SETTLED` it is measured
    afresh each time: the first renders of a fresh server (one slot seen so far, a cold first
    render) must not speak for the next seconds, when the queue they describe has moved on."""
    hit = _measured.get(key)
    if hit and time.monotonic() - hit[1] < CACHE_SECONDS:
        return hit[0]
    measured = measure()
    if measured is None:
        return default
    value, sample = measured
    if sample >= SETTLED:
        _measured[key] = (value, time.monotonic())
    return value


def render_seconds(model: str, deep_thinking: bool) -> float:
    """Typical claim-to-completed seconds of this kind of image, from its last 50 completed renders."""

    def measure() -> tuple[float, int] | None:
        recent = (
            Generation.objects.filter(stage=Stage.COMPLETED, model=model, deep_thinking=deep_thinking)
            .exclude(started_at=None)
            .order_by("-finished_at")
            .values_list("started_at", "finished_at")[:SAMPLE]
        )
        durations = [(done - began).total_seconds() for began, done in recent if began and done]
        return (statistics.median(durations), len(durations)) if durations else None

    return _cached((model, deep_thinking), measure, DEFAULT_RENDER_SECONDS)


def _most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    """The largest number of the (start, end) spans that overlap at one instant."""
    edges = sorted([(began, 1) for began, _ in spans] + [(done, -1) for _, done in spans], key=lambda e: (e[0], e[1]))
    most = running = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def recent_slots() -> int:
    """How many renders ran side by side lately: the render slots that have been serving."""

    def measure() -> tuple[float, int] | None:
        recent = (
            Generation.objects.filter(stage=Stage.COMPLETED)
            .exclude(started_at=None)
            .order_by("-finished_at")
            .values_list("started_at", "finished_at")[:SAMPLE]
        )
        spans = [(began, done) for began, done in recent if began and done]
        return (_most_at_once(spans), len(spans)) if spans else None

    return int(_cached("slots", measure, 1))


# The queries a forecast runs on every submit and every gallery poll, compiled once (studio.prepared).
_LINE = Generation.objects.filter(stage=Stage.QUEUED)
_RENDERING = Prepared(
    lambda: Generation.objects.filter(stage=Stage.RENDERING).values_list(
        "pk", "model", "deep_thinking", "started_at", "progress"
    )
)
_FRONT_OF_THE_LINE = Prepared(
    lambda: _LINE.order_by("enqueued_at", "pk").values_list("pk", "model", "deep_thinking")[:MAX_QUEUE_ROWS]
)
_AHEAD_OF = Prepared(
    lambda at, pk: (
        _LINE.filter(Q(enqueued_at__lt=at) | Q(enqueued_at=at, pk__lt=pk))
        .order_by()
        .values("stage")
        .annotate(n=Count("pk"))
        .values_list("n")
    ),
    "datetime",
    "int",
)
_STRETCH = Prepared(
    lambda first, last: (
        _LINE.filter(enqueued_at__gte=first, enqueued_at__lte=last)
        .order_by("enqueued_at", "pk")
        .values_list("pk", "enqueued_at")
    ),
    "datetime",
    "datetime",
)


def _left_of_rendering(started_at: datetime | None, progress: float, now: datetime, typical: float) -> float:
    """Seconds left of an image a worker has: from its progress once it has some, else its kind's time."""
    spent = (now - started_at).total_seconds() if started_at else 0.0
    if progress > 0.05:
        return max(0.0, spent * (1 - progress) / progress)
    return max(0.0, typical - spent)


def forecast(generations: Iterable[Generation]) -> dict[int, Forecast]:
    """Place in line and seconds left for each unfinished one of `generations` (by pk).

    A fixed number of queries, whatever the number of images or the length of the line: what
    is rendering, the first `MAX_QUEUE_ROWS` in line, two for the places of any further back
    (`_places`), and (cached for a few seconds) the measured time of each kind seen.
    """
    wanted = [g for g in generations if not g.is_finished]
    if not wanted:
        return {}
    now = timezone.now()
    times: dict[Kind, float] = {}

    def typical(model: str, deep_thinking: bool) -> float:
        if (model, deep_thinking) not in times:
            times[model, deep_thinking] = render_seconds(model, deep_thinking)
        return times[model, deep_thinking]

    result = {
        pk: Forecast(None, _left_of_rendering(started_at, progress, now, typical(model, deep_thinking)))
        for pk, model, deep_thinking, started_at, progress in _RENDERING.rows()
    }
    slots = [f.seconds_left for f in result.values()]
    queued_wanted = [g for g in wanted if g.stage == Stage.QUEUED]
    if queued_wanted:
        rows = _FRONT_OF_THE_LINE.rows()
        slots += [0.0] * max(0, max(recent_slots(), len(slots)) - len(slots))
        heapq.heapify(slots)
        spent = 0.0
        asked = {g.pk for g in queued_wanted}  # a Forecast only for these: the rest only fill the slots
        for position, (pk, model, deep_thinking) in enumerate(rows, start=1):
            seconds = typical(model, deep_thinking)
            finish = slots[0] + seconds
            heapq.heapreplace(slots, finish)  # the slot that frees first takes the next in line
            if pk in asked:
                result[pk] = Forecast(position, finish)
            spent += seconds
        further = [g for g in queued_wanted if g.pk not in result]
        if further and len(rows) == MAX_QUEUE_ROWS:  # else they have left the line since they were read
            per_image = spent / len(rows) / len(slots)
            for pk, position in _places(further):
                result[pk] = Forecast(position, max(slots) + (position - len(rows)) * per_image)
    return {g.pk: result.get(g.pk, Forecast(None, 0.0)) for g in wanted}


def _places(queued: list[Generation]) -> Iterable[tuple[int, int]]:
    """(pk, place in line) of each of `queued`, in two queries: how many are ahead of the first
    of them, then the line from the first to the last of them (one image, or one batch, is a
    short stretch of the line however long the line is)."""
    first = min(queued, key=lambda g: (g.enqueued_at, g.pk))
    counted = _AHEAD_OF.rows(first.enqueued_at, first.pk)
    place = counted[0][0] if counted else 0
    wanted = {g.pk for g in queued}
    for pk, enqueued_at in _STRETCH.rows(first.enqueued_at, max(g.enqueued_at for g in queued)):
        if enqueued_at == first.enqueued_at and pk < first.pk:
            continue  # counted as ahead
        place += 1
        if pk in wanted:
            yield pk, place


def one(generation: Generation) -> Forecast:
    """`forecast` for a single image (a finished one has nothing left)."""
    return forecast([generation]).get(generation.pk, Forecast(None, 0.0))


@dataclass(frozen=True)
class BatchProgress:
    """A batch as a whole: its first prompt, how many of its images are done, the fraction done, the seconds left."""

    batch: Batch
    prompt: str
    finished: int
    total: int
    fraction: float
    seconds_left: float


def batch_progress(batch: Batch, items: list[Generation], ahead: dict[int, Forecast] | None = None) -> BatchProgress:
    """Overall progress of `batch` (its `items`, all of them): finished images count whole,
    rendering ones by their progress. `ahead`: `forecast` of the items, when already made."""
    finished = sum(g.is_finished for g in items)
    partial = sum(g.progress for g in items if g.stage == Stage.RENDERING)
    total = batch.total or len(items) or 1
    left = forecast(items) if ahead is None else {g.pk: ahead[g.pk] for g in items if g.pk in ahead}
    return BatchProgress(
        batch=batch,
        prompt=items[0].prompt if items else "",
        finished=finished,
        total=total,
        fraction=min(1.0, (finished + partial) / total),
        seconds_left=max((f.seconds_left for f in left.values()), default=0.0),
    )
