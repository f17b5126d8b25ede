"""What the doors change: submit, batch, cancel, star, delete.

Both doors (the `/v1` API and the studio) and the command line call these functions;
they hold no rules of their own (those are in `specs`). Each change is one transaction;
credits move through `accounts.ledger` inside it; work is enqueued (`worker.queue`) only
once the transaction commits. What a worker changes afterwards is `worker.transitions`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Expression, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import ledger, teams
from accounts.ledger import InsufficientCredits
from accounts.models import ApiKey, Team, User
from accounts.permissions import MESSAGES, Action, Forbidden, may_delete
from generations import links, selectors, specs, storage
from generations.models import UNFINISHED, Batch, Generation, Stage, Star
from generations.specs import Spec
from generations.webhooks import guard as webhook_guard
from generations.worker import queue, transitions
from studio.prepared import Prepared

log = logging.getLogger(__name__)

__all__ = [
    "BatchCanceled",
    "BatchTooLarge",
    "InsufficientCredits",
    "NotCancelable",
    "RateLimited",
    "cancel",
    "cancel_batch",
    "delete",
    "set_starred",
    "submit",
    "submit_batch",
]


class RateLimited(Exception):
    """Too much at once for the account's tier. `retry_after` in seconds; `limit` and
    `in_flight`: the concurrent allowance and what holds it (the API's X-Concurrency-* headers)."""

    def __init__(
        self, message: str, *, retry_after: int = 5, limit: int | None = None, in_flight: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit
        self.in_flight = in_flight


class BatchTooLarge(Exception):
    pass


class NotCancelable(Exception):
    pass


@dataclass(frozen=True)
class Submitted:
    generations: list[Generation]
    batch: Batch | None
    credits_remaining: int

    @property
    def credits_charged(self) -> int:
        return sum(g.credits_charged for g in self.generations)


def _engine_name(model: str) -> str:
    return settings.STUDIO_MODELS[model]["engine"]


def _new_generation(
    spec: Spec,
    *,
    user: User,
    api_key: ApiKey | None,
    batch: Batch | None,
    index: int | None,
    team: Team | None,
    public_base_url: str,
) -> Generation:
    now = timezone.now()
    deadline = now + timedelta(seconds=settings.STUDIO_GENERATION_DEADLINE_SECONDS)
    if batch is not None:
        deadline = min(deadline, batch.deadline_at)
    return Generation.from_spec(
        spec,
        user=user,
        team=team,
        api_key=api_key,
        batch=batch,
        index=index,
        engine=_engine_name(spec.model),
        deadline=deadline,
        now=now,
        public_base_url=public_base_url,
    )


def _in_flight_places() -> Expression:
    """The places an account holds in its tier's concurrent allowance: each single image in
    progress holds one, and so does each unfinished batch, whatever its size (the tier's
    batch size bounds that)."""
    singles = Generation.objects.filter(user=OuterRef("pk"), batch__isnull=True, stage__in=UNFINISHED)
    batches = Batch.objects.filter(user=OuterRef("pk"), finished_at__isnull=True)

    def count(rows: QuerySet[Any]) -> Expression:
        return Coalesce(Subquery(rows.order_by().values("user").annotate(n=Count("pk")).values("n")), 0)

    return count(singles) + count(batches)


# Every submit runs these two, compiled once (studio.prepared). The count is its own statement,
# after the lock: on PostgreSQL a statement that waited for a row lock still reads the other
# tables as they were when it began, so counting in the locking statement could miss the
# image that the submit it waited for had just committed.
_LOCKED_USER = Prepared(lambda user_id: User.objects.select_for_update().filter(pk=user_id), "int")
_IN_FLIGHT = Prepared(
    lambda user_id: User.objects.filter(pk=user_id).annotate(n=_in_flight_places()).values_list("n"), "int"
)


def _lock_user(user: User) -> User:
    """Serialise submissions of one account, so limits are checked against settled counts."""
    locked = _LOCKED_USER.first(user.pk)
    if locked is None:
        raise User.DoesNotExist(f"No user {user.pk}.")
    return locked


def _check_concurrency(user: User) -> None:
    """The tier's concurrent allowance, against the places `user` holds (`_in_flight_places`)."""
    in_flight = _IN_FLIGHT.rows(user.pk)[0][0]
    limit = user.limits.concurrent
    if in_flight + 1 > limit:
        raise RateLimited(
            f"Too many generations in progress: {in_flight} of {limit} allowed at once on the {user.tier} tier "
            "(each unfinished batch counts as one). Wait for one to finish.",
            retry_after=5,
            limit=limit,
            in_flight=in_flight,
        )


def _check_webhook_urls(urls: Sequence[tuple[str, str]]) -> None:
    """Refuse, before anything is charged, a webhook URL that points inside (SpecError invalid_webhook_url)."""
    for where, url in urls:
        webhook_guard.check_submit_url(url, where)


def _check_can_generate(user: User, team: Team | None) -> None:
    """Into a team only as its editor or owner (Http404 for a non-member, Forbidden for a viewer)."""
    if team is not None:
        teams.workspace_of_team(user, team).require(Action.GENERATE)


def submit(
    *,
    user: User,
    spec: Spec,
    api_key: ApiKey | None = None,
    team: Team | None = None,
    public_base_url: str = "",
) -> Submitted:
    """Charge for and create one generation (in `team`'s workspace, if given), queued once committed.

    The credits are always the submitting user's, whichever workspace the image goes to.
    `public_base_url` is the submitting request's (`links.request_base_url`): where its
    webhook's links will point.
    """
    _check_can_generate(user, team)
    _check_webhook_urls([("webhook_url", spec.webhook_url)])
    with transaction.atomic():
        locked = _lock_user(user)
        _check_concurrency(locked)
        generation = _new_generation(
            spec, user=locked, api_key=api_key, batch=None, index=None, team=team, public_base_url=public_base_url
        )
        generation.save()
        remaining = ledger.charge(user=locked, generations=[generation])
        queue.render([generation.pk])
    user.credits = remaining
    return Submitted(generations=[generation], batch=None, credits_remaining=remaining)


def check_batch_size(user: User, count: int) -> None:
    """The document's 50 per batch, and the tier's own batch size."""
    if count < 1:
        raise BatchTooLarge("A batch needs at least one generation.")
    if count > specs.BATCH_MAX_ITEMS:
        raise BatchTooLarge(
            f"Batch of {count} exceeds the maximum of {specs.BATCH_MAX_ITEMS} generations per request. "
            "Split it into smaller batches."
        )
    limit = user.limits.batch_size
    if count > limit:
        raise BatchTooLarge(
            f"Batch of {count} exceeds the {user.tier} tier's batch size of {limit}. Split it into smaller batches."
        )


def submit_batch(
    *,
    user: User,
    specs_: Sequence[Spec],
    webhook_url: str = "",
    api_key: ApiKey | None = None,
    team: Team | None = None,
    public_base_url: str = "",
) -> Submitted:
    """All or nothing: validate limits, charge for every item, create them, queue on commit."""
    _check_can_generate(user, team)
    check_batch_size(user, len(specs_))
    _check_webhook_urls(
        [
            ("webhook_url", webhook_url),
            *((f"generations[{i}].webhook_url", s.webhook_url) for i, s in enumerate(specs_)),
        ]
    )
    with transaction.atomic():
        locked = _lock_user(user)
        check_batch_size(locked, len(specs_))
        running = Batch.objects.filter(user=locked, finished_at__isnull=True).count()
        if running >= specs.MAX_BATCHES_IN_PROGRESS:
            raise RateLimited(
                f"{running} batches are in progress; at most {specs.MAX_BATCHES_IN_PROGRESS} may run at once.",
                retry_after=10,
                limit=specs.MAX_BATCHES_IN_PROGRESS,
                in_flight=running,
            )
        _check_concurrency(locked)
        now = timezone.now()
        batch = Batch.objects.create(
            user=locked,
            team=team,
            api_key=api_key,
            webhook_url=webhook_url,
            public_base_url=links.to_record(public_base_url),
            total=len(specs_),
            created_at=now,
            deadline_at=now + timedelta(seconds=specs.BATCH_TIMEOUT_SECONDS),
        )
        generations = [
            _new_generation(
                spec, user=locked, api_key=api_key, batch=batch, index=i, team=team, public_base_url=public_base_url
            )
            for i, spec in enumerate(specs_)
        ]
        Generation.objects.bulk_create(generations)
        remaining = ledger.charge(user=locked, generations=generations)
        queue.render(g.pk for g in generations)
    user.credits = remaining
    return Submitted(generations=generations, batch=batch, credits_remaining=remaining)


def may_cancel(user: User, generation: Generation) -> bool:
    """Whoever generated it, or anyone who may generate in its workspace (a team's editors and owners)."""
    if generation.user_id == user.pk:
        return True
    return selectors.workspace_of(user, generation).can(Action.GENERATE)


def cancel(*, user: User, generation: Generation) -> Generation:
    """Cancel a generation that has not finished, and refund its creator. Forbidden for a
    team's viewer (the same rule for the studio and `/v1`); NotCancelable once it has finished."""
    if not may_cancel(user, generation):
        raise Forbidden(MESSAGES[Action.GENERATE])
    done = transitions.end_unfinished(
        generation.pk, stage=Stage.CANCELED, code="canceled", message="Canceled by request.", note="Canceled"
    )
    if done is None:
        raise NotCancelable(f"Generation {generation.public_id} has already finished ({generation.status}).")
    return done


@dataclass(frozen=True)
class BatchCanceled:
    batch: Batch
    canceled: list[Generation]  # what this call canceled (and refunded), in batch order

    @property
    def credits_refunded(self) -> int:
        return sum(g.credits_charged for g in self.canceled)


def may_cancel_batch(user: User, batch: Batch) -> bool:
    """`may_cancel`'s rule for a whole batch: whoever submitted it, or anyone who
    may generate in its workspace (a team's editors and owners; not its viewers)."""
    if batch.user_id == user.pk:
        return True
    return batch.team_id is not None and teams.workspace_of_team(user, batch.team).can(Action.GENERATE)


def cancel_batch(*, user: User, batch: Batch) -> BatchCanceled:
    """Cancel every item of `batch` that has not finished, each refunded to its creator in the
    transaction that ends it; the last one to end closes the batch (and records its
    `batch.completed` webhook, whose counts say how many were canceled), as any batch ends.

    Items a worker finishes meanwhile keep their result and their charge. NotCancelable when
    nothing was left to cancel; Forbidden for a team's viewer.
    """
    if not may_cancel_batch(user, batch):
        raise Forbidden(MESSAGES[Action.GENERATE])
    with transaction.atomic():
        pending = Generation.objects.filter(batch=batch, stage__in=UNFINISHED).order_by("batch_index")
        canceled = []
        for pk in pending.values_list("pk", flat=True):
            done = transitions.end_unfinished(
                pk, stage=Stage.CANCELED, code="canceled", message="Canceled with its batch.", note="Canceled"
            )
            if done is not None:
                canceled.append(done)
        if not canceled:
            raise NotCancelable(f"Batch {batch.public_id} has nothing left to cancel: every image has finished.")
    batch.refresh_from_db(fields=["finished_at"])
    return BatchCanceled(batch=batch, canceled=canceled)


# --- The studio's library: stars and deletion ---------------------------------------------


def set_starred(*, user: User, generations: Sequence[Generation], starred: bool) -> int:
    """Star or unstar generations `user` may see (stars are per user). Returns how many changed."""
    own = selectors.allowed(user, generations, Action.STAR)
    if not starred:
        return Star.objects.filter(user=user, generation__in=own).delete()[0]
    existing = set(Star.objects.filter(user=user, generation__in=own).values_list("generation_id", flat=True))
    fresh = [Star(user=user, generation=g) for g in own if g.pk not in existing]
    Star.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def delete(*, user: User, generations: Sequence[Generation]) -> int:
    """Delete those of `generations` that `user` may delete (`may_delete`: their own, in any
    workspace; the rest are skipped) and, once that commits, their files.

    One still in progress is canceled (and refunded) first, so no credits are lost with
    it. The ledger keeps its entries: they name the generation by its public id.
    """
    own_ids = [g.pk for g in generations if may_delete(user, g)]
    with transaction.atomic():
        for pk in Generation.objects.filter(pk__in=own_ids, stage__in=UNFINISHED).values_list("pk", flat=True):
            transitions.end_unfinished(
                pk, stage=Stage.CANCELED, code="canceled", message="Deleted by its owner.", note="Deleted"
            )
        doomed = list(Generation.objects.filter(pk__in=own_ids))
        Generation.objects.filter(pk__in=[g.pk for g in doomed]).delete()

        def delete_files() -> None:
            for g in doomed:
                storage.delete_images(g)

        transaction.on_commit(delete_files)
    return len(doomed)
