"""`studio.prepared`: a queryset compiled once gives what the queryset itself gives, in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from generations.models import Batch, Generation
from studio.prepared import Prepared
from tests.studio_factories import make_generation, make_team

pytestmark = pytest.mark.django_db

BY_ID = Prepared(
    lambda user_id, public_id: (
        Generation.objects.filter(user_id=user_id, public_id=public_id)
        .select_related("batch", "team")
        .order_by("pk")[:1]
    ),
    "int",
    "text",
)


def fields(g: Generation) -> dict[str, object]:
    return {f.attname: getattr(g, f.attname) for f in Generation._meta.concrete_fields}


def test_the_row_is_the_querysets_own_with_converters_and_related_objects(user):
    team = make_team(user)
    batch = Batch.objects.create(user=user, team=team, total=1, deadline_at=make_generation(user).deadline_at)
    made = make_generation(user, colors=["#112233"], batch=batch, team=team, batch_index=0)
    plain = Generation.objects.select_related("batch", "team").get(pk=made.pk)

    with CaptureQueriesContext(connection) as captured:
        got = BY_ID.first(user.pk, made.public_id)
        assert got is not None
        assert (got.batch.public_id, got.team.name) == (batch.public_id, team.name)  # no further query
    assert len(captured) == 1
    assert fields(got) == fields(plain)  # JSON, datetimes (aware), booleans converted as the ORM does
    assert got._state.adding is False and got._state.db == "default"
    got.save(update_fields=["prompt"])  # a real instance: it saves


def test_a_missing_relation_is_none_and_a_missing_row_is_none(user, make_user):
    made = make_generation(user)
    got = BY_ID.first(user.pk, made.public_id)
    assert got is not None and got.batch is None and got.team is None
    assert BY_ID.first(make_user("someone").pk, made.public_id) is None  # the values are the ones given
    assert BY_ID.first(user.pk, "img_missing") is None


def test_an_argument_used_twice_is_filled_in_both_places(user, make_user):
    stranger = make_user("stranger")
    mine = make_generation(user)
    twice = Prepared(lambda user_id: Generation.objects.filter(user_id=user_id, api_key__user_id=user_id), "int")
    key = ApiKey.objects.create(user=user, name="k", prefix="p", key_hash="h")
    Generation.objects.filter(pk=mine.pk).update(api_key=key)
    assert [g.pk for g in twice.all(user.pk)] == [mine.pk]
    assert twice.all(stranger.pk) == []


def test_a_value_that_does_not_reach_the_sql_unchanged_is_refused_when_compiled():
    lowered = Prepared(lambda prompt: Generation.objects.filter(prompt__iexact=prompt[:3]), "text")
    with pytest.raises(ValueError, match="do not reach the SQL unchanged"):
        lowered.first("abc")


def test_values_rows_take_datetimes_and_aggregates_as_the_queryset_does(user):
    from django.db.models import Count

    made = [make_generation(user, prompt=f"p{n}") for n in range(4)]
    since = Prepared(
        lambda after, pk: (
            Generation.objects.filter(created_at__gte=after, pk__gt=pk)
            .order_by("created_at")
            .values_list("prompt", "created_at", "colors", "pk")
        ),
        "datetime",
        "int",
    )
    plain = list(
        Generation.objects.filter(created_at__gte=made[1].created_at, pk__gt=made[1].pk)
        .order_by("created_at")
        .values_list("prompt", "created_at", "colors", "pk")
    )
    assert since.rows(made[1].created_at, made[1].pk) == plain and [r[0] for r in plain] == ["p2", "p3"]
    counted = Prepared(
        lambda pk: (
            Generation.objects.filter(pk__gte=pk).order_by().values("user").annotate(n=Count("pk")).values_list("n")
        ),
        "int",
    )
    assert counted.rows(made[2].pk) == [(2,)]
    with pytest.raises(TypeError, match="rows"):
        BY_ID.rows(user.pk, made[0].public_id)
    with pytest.raises(TypeError, match="2 values expected"):
        BY_ID.first(user.pk)
