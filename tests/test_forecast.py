"""Queue estimates: the line ahead played forward over the render slots seen, at measured render times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generations import forecast
from generations.models import Batch, Generation, Stage
from tests.studio_factories import make_generation

pytestmark = pytest.mark.django_db


def rendered(user, *, seconds: float, start, model="seedream-5.0-lite", deep_thinking=False):
    """A completed render that a worker held from `start` for `seconds`."""
    return make_generation(
        user,
        files=False,
        model=model,
        deep_thinking=deep_thinking,
        created_at=start,
        started_at=start,
        finished_at=start + timedelta(seconds=seconds),
    )


def history(user, *, slots: int, seconds: float, model="seedream-5.0-lite", deep_thinking=False, hours_ago=1):
    """Six renders of `seconds` each, `slots` of them at a time, `hours_ago`."""
    begin = timezone.now() - timedelta(hours=hours_ago)
    for n in range(6):
        start = begin + timedelta(seconds=(n // slots) * seconds * 1.01)
        rendered(user, seconds=seconds, start=start, model=model, deep_thinking=deep_thinking)


def queued(user, n: int, *, model="seedream-5.0-lite", deep_thinking=False) -> list[Generation]:
    now = timezone.now()
    return [
        make_generation(
            user, stage=Stage.QUEUED, model=model, deep_thinking=deep_thinking, created_at=now + timedelta(seconds=i)
        )
        for i in range(n)
    ]


def test_a_queue_is_played_forward_over_the_slots_seen_at_the_measured_time(user):
    history(user, slots=2, seconds=10)
    line = queued(user, 6)
    ahead = forecast.forecast(line)
    assert [ahead[g.pk].position for g in line] == [1, 2, 3, 4, 5, 6]
    assert [round(ahead[g.pk].seconds_left) for g in line] == [10, 10, 20, 20, 30, 30]
    assert forecast.recent_slots() == 2


def test_one_slot_seen_means_one_at_a_time(user):
    history(user, slots=1, seconds=4)
    line = queued(user, 3)
    assert [round(forecast.one(g).seconds_left) for g in line] == [4, 8, 12]


def test_each_kind_of_image_takes_its_own_measured_time(user):
    history(user, slots=1, seconds=2, hours_ago=2)
    history(user, slots=1, seconds=8, deep_thinking=True)
    plain, deep, last = queued(user, 1) + queued(user, 1, deep_thinking=True) + queued(user, 1)
    ahead = forecast.forecast([plain, deep, last])
    assert [round(ahead[g.pk].seconds_left) for g in (plain, deep, last)] == [2, 10, 12]


def test_what_is_rendering_goes_first_and_counts_as_a_slot(user):
    history(user, slots=1, seconds=10)
    now = timezone.now()
    busy = [
        make_generation(user, stage=Stage.RENDERING, progress=0.5, started_at=now - timedelta(seconds=5), files=False)
        for _ in range(2)
    ]  # two workers rendering now, though only one was seen lately: two slots
    line = queued(user, 2)
    ahead = forecast.forecast([*busy, *line])
    assert [ahead[g.pk].position for g in busy] == [None, None]
    assert [round(ahead[g.pk].seconds_left) for g in busy] == [5, 5]  # half done in 5 s: 5 s to go
    assert [round(ahead[g.pk].seconds_left) for g in line] == [15, 15]


def test_a_kind_never_rendered_gets_the_default_time(user):
    (g,) = queued(user, 1, model="brand-new")
    assert forecast.one(g) == forecast.Forecast(1, forecast.DEFAULT_RENDER_SECONDS)


def test_finished_images_have_nothing_left(user):
    g = make_generation(user, files=False)
    assert forecast.forecast([g]) == {}
    assert forecast.one(g) == forecast.Forecast(None, 0.0)


@pytest.mark.parametrize("same_instant", [False, True], ids=["one after another", "a batch, all at once"])
def test_a_line_longer_than_is_played_forward_is_averaged_beyond(user, same_instant):
    history(user, slots=1, seconds=5)
    line = queued(user, forecast.MAX_QUEUE_ROWS + 5)
    if same_instant:  # a batch's images are queued at one instant: first in line by pk
        Generation.objects.filter(pk__in=[g.pk for g in line]).update(enqueued_at=line[0].enqueued_at)
        line = list(Generation.objects.filter(pk__in=[g.pk for g in line]).order_by("pk"))
    ahead = forecast.forecast(line)
    assert [ahead[g.pk].position for g in line] == list(range(1, len(line) + 1))
    assert [round(ahead[g.pk].seconds_left) for g in line] == [5 * n for n in range(1, len(line) + 1)]
    tail = line[-3:]  # asked for alone, the back of the line is placed the same
    assert forecast.forecast(tail) == {g.pk: ahead[g.pk] for g in tail}


def test_a_batch_counts_finished_images_whole_and_rendering_ones_by_progress(user):
    history(user, slots=1, seconds=6)
    now = timezone.now()
    batch = Batch.objects.create(user=user, total=4, deadline_at=now + timedelta(hours=1))
    items = [
        make_generation(user, files=False, batch=batch, batch_index=0),
        make_generation(user, stage=Stage.FAILED, files=False, batch=batch, batch_index=1),
        make_generation(
            user, stage=Stage.RENDERING, progress=0.5, started_at=now - timedelta(seconds=3), files=False,
            batch=batch, batch_index=2,
        ),
        make_generation(user, stage=Stage.QUEUED, files=False, batch=batch, batch_index=3),
    ]  # fmt: skip
    overall = forecast.batch_progress(batch, items)
    assert (overall.finished, overall.total) == (2, 4)
    assert overall.fraction == pytest.approx(2.5 / 4)
    assert round(overall.seconds_left) == 9  # 3 s left of the rendering one, then 6 s for the last


def test_the_first_renders_of_a_fresh_server_do_not_speak_for_the_next_seconds(user):
    """One render seen says one slot and its cold time; the second worker's first renders, a
    moment later, must count at once (a five-second memory of the first said a 48-image batch
    would take twice as long as it did)."""
    start = timezone.now() - timedelta(seconds=30)
    rendered(user, seconds=6, start=start)
    assert (forecast.recent_slots(), forecast.render_seconds("seedream-5.0-lite", False)) == (1, 6)

    for n in range(4):  # two workers now, side by side, each render 2 s
        rendered(user, seconds=2, start=start + timedelta(seconds=6 + 2 * (n // 2)))
    assert (forecast.recent_slots(), forecast.render_seconds("seedream-5.0-lite", False)) == (2, 2)


def test_a_settled_measurement_is_remembered_for_a_few_seconds(user, django_assert_num_queries):
    history(user, slots=2, seconds=3)
    history(user, slots=2, seconds=3, hours_ago=2)  # twelve renders: enough to remember
    assert forecast.recent_slots() == 2
    with django_assert_num_queries(0):
        assert forecast.recent_slots() == 2
