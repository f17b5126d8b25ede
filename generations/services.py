"""Everything that changes a generation: submit, cancel, and the worker-side transitions.

Both doors (the `/v1` API and the studio) and the command line call these functions;
they hold no rules of their own. Each change is one transaction; credits move through
`accounts.ledger` inside it; work is enqueued only once the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import ledger, teams
from accounts.ledger import InsufficientCredits
from accounts.models import ApiKey, Membership, Team, User
from accounts.permissions import Action, allows
from generations import specs, storage
from generations.models import UNFINISHED, Batch, Generation, Stage, Star
from generations.signals import batch_finished, generation_finished
from generations.specs import Spec

log = logging.getLogger(__name__)

__all__ = [
    "BatchTooLarge",
    "InsufficientCredits",
    "NotCancelable",
    "RateLimited",
    "cancel",
    "delete",
    "fail",
    "set_starred",
    "submit",
    "submit_batch",
]


class RateLimited(Exception):
    """Too much at once for the account's tier. `retry_after` in seconds."""

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
    spec: Spec, *, user: User, api_key: ApiKey | None, batch: Batch | None, index: int | None, team: Team | None
) -> Generation:
    spec = spec.with_seed()
    now = timezone.now()
    deadline = now + timedelta(seconds=settings.STUDIO_GENERATION_DEADLINE_SECONDS)
    if batch is not None:
        deadline = min(deadline, batch.deadline_at)
    return Generation(
        user=user,
        team=team,
        api_key=api_key,
        batch=batch,
        batch_index=index,
        model=spec.model,
        engine=_engine_name(spec.model),
        prompt=spec.prompt,
        aspect_ratio=spec.aspect_ratio,
        width=spec.width,
        height=spec.height,
        style=spec.style,
        colors=list(spec.colors),
        deep_thinking=spec.deep_thinking,
        seed=spec.seed,
        metadata=spec.metadata,
        webhook_url=spec.webhook_url or (batch.webhook_url if batch else ""),
        credits_charged=spec.price,
        created_at=now,
        enqueued_at=now,
        deadline_at=deadline,
    )


def _lock_user(user: User) -> User:
    """Serialise submissions of one account, so limits are checked against settled counts."""
    return User.objects.select_for_update().get(pk=user.pk)


def _check_concurrency(user: User, adding: int) -> None:
    in_flight = Generation.objects.filter(user=user, batch__isnull=True, stage__in=UNFINISHED).count()
    limit = user.limits.concurrent
    if in_flight + adding > limit:
        raise RateLimited(
            f"Too many generations in progress: {in_flight} of {limit} allowed at once on the {user.tier} tier. "
            "Wait for one to finish.",
            retry_after=5,
        )


def _enqueue(generations: Sequence[Generation], *, countdown: float = 0) -> None:
    from generations import tasks

    ids = [g.pk for g in generations]
    transaction.on_commit(lambda: [tasks.render.apply_async((pk,), countdown=countdown or None) for pk in ids])


def _check_webhook_urls(urls: Sequence[tuple[str, str]]) -> None:
    """Refuse, before anything is charged, a webhook URL that points inside (SpecError invalid_webhook_url)."""
    from generations import webhook_guard

    for where, url in urls:
        webhook_guard.check_submit_url(url, where)


def _check_can_generate(user: User, team: Team | None) -> None:
    """Into a team only as its editor or owner (Http404 for a non-member, Forbidden for a viewer)."""
    if team is not None:
        teams.workspace_of_team(user, team).require(Action.GENERATE)


def submit(*, user: User, spec: Spec, api_key: ApiKey | None = None, team: Team | None = None) -> Submitted:
    """Charge for and create one generation (in `team`'s workspace, if given), queued once committed.

    The credits are always the submitting user's, whichever workspace the image goes to.
    """
    _check_can_generate(user, team)
    _check_webhook_urls([("webhook_url", spec.webhook_url)])
    with transaction.atomic():
        locked = _lock_user(user)
        _check_concurrency(locked, 1)
        generation = _new_generation(spec, user=locked, api_key=api_key, batch=None, index=None, team=team)
        generation.save()
        remaining = ledger.charge(user=locked, generations=[generation])
        _enqueue([generation])
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
            )
        now = timezone.now()
        batch = Batch.objects.create(
            user=locked,
            team=team,
            api_key=api_key,
            webhook_url=webhook_url,
            total=len(specs_),
            created_at=now,
            deadline_at=now + timedelta(seconds=specs.BATCH_TIMEOUT_SECONDS),
        )
        generations = [
            _new_generation(spec, user=locked, api_key=api_key, batch=batch, index=i, team=team)
            for i, spec in enumerate(specs_)
        ]
        Generation.objects.bulk_create(generations)
        remaining = ledger.charge(user=locked, generations=generations)
        _enqueue(generations)
    user.credits = remaining
    return Submitted(generations=generations, batch=batch, credits_remaining=remaining)


def _finish(generation: Generation) -> None:
    """After a generation reached a final stage, inside its transaction: events and batch."""
    generation_finished.send(sender=Generation, generation=generation)
    if generation.batch_id:
        _maybe_finish_batch(generation.batch_id)


def _maybe_finish_batch(batch_id: int) -> None:
    if Generation.objects.filter(batch_id=batch_id, stage__in=UNFINISHED).exists():
        return
    if Batch.objects.filter(pk=batch_id, finished_at__isnull=True).update(finished_at=timezone.now()):
        batch_finished.send(sender=Batch, batch=Batch.objects.get(pk=batch_id))


def _end_unfinished(generation_id: int, *, stage: str, code: str, message: str, note: str) -> Generation | None:
    """Move an unfinished generation to failed/canceled and refund it, once. None if it had finished."""
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
        _finish(generation)
    return generation


def cancel(*, generation: Generation) -> Generation:
    """Cancel a generation that has not finished, and refund it."""
    done = _end_unfinished(
        generation.pk, stage=Stage.CANCELED, code="canceled", message="Canceled by request.", note="Canceled"
    )
    if done is None:
        raise NotCancelable(f"Generation {generation.public_id} has already finished ({generation.status}).")
    return done


def fail(*, generation_id: int, code: str, message: str) -> Generation | None:
    """Fail an unfinished generation and refund it. None if it had already finished."""
    return _end_unfinished(generation_id, stage=Stage.FAILED, code=code, message=message, note=f"Refund: {code}")


# --- Worker side -------------------------------------------------------------------------


def stale_before() -> timezone.datetime:
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


def heartbeat(generation: Generation) -> bool:
    """Say this worker is still rendering. False when the generation is no longer ours."""
    return bool(
        Generation.objects.filter(pk=generation.pk, stage=Stage.RENDERING, attempts=generation.attempts).update(
            heartbeat_at=timezone.now()
        )
    )


def record_progress(generation: Generation, fraction: float, note: str) -> bool:
    """Store progress. False when the generation was canceled or taken over meanwhile."""
    return bool(
        Generation.objects.filter(pk=generation.pk, stage=Stage.RENDERING, attempts=generation.attempts).update(
            progress=max(0.0, min(1.0, fraction)), progress_note=note[:100], heartbeat_at=timezone.now()
        )
    )


def complete(generation: Generation, *, files: dict[str, str], plan: dict, info: dict, seconds: float) -> bool:
    """Record a finished render. False if this attempt no longer owns the generation."""
    with transaction.atomic():
        won = Generation.objects.filter(pk=generation.pk, stage=Stage.RENDERING, attempts=generation.attempts).update(
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
        _finish(Generation.objects.get(pk=generation.pk))
    return True


def requeue(generation: Generation, *, delay_seconds: float = 0) -> bool:
    """Give a claimed generation back to the queue (a transient engine fault), to run again
    after `delay_seconds`: a provider that is rate limiting or down gets a moment first."""
    with transaction.atomic():
        moved = Generation.objects.filter(pk=generation.pk, stage=Stage.RENDERING, attempts=generation.attempts).update(
            stage=Stage.QUEUED, enqueued_at=timezone.now(), progress=0.0, progress_note="retrying"
        )
        if moved:
            _enqueue([generation], countdown=delay_seconds)
    return bool(moved)


def sweep() -> dict[str, int]:
    """Find work that is stuck and move it on. Safe to run anywhere, any number of times.

    - queued but not picked up for a while (a lost message): enqueue again;
    - rendering with no heartbeat (a killed worker): back to the queue;
    - not finished by its deadline (including a batch's 5 minutes): fail and refund;
    - a batch whose items all finished but was not closed: close it.
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
                _enqueue([Generation(pk=pk)])
                counts["recovered"] += 1

    lost_before = now - timedelta(seconds=settings.STUDIO_REQUEUE_AFTER_SECONDS)
    for pk in Generation.objects.filter(stage=Stage.QUEUED, enqueued_at__lt=lost_before).values_list("pk", flat=True):
        with transaction.atomic():
            if Generation.objects.filter(pk=pk, stage=Stage.QUEUED, enqueued_at__lt=lost_before).update(
                enqueued_at=now
            ):
                _enqueue([Generation(pk=pk)])
                counts["requeued"] += 1

    for batch_id in Batch.objects.filter(finished_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            before = Batch.objects.filter(pk=batch_id, finished_at__isnull=True).exists()
            _maybe_finish_batch(batch_id)
            if before and not Batch.objects.filter(pk=batch_id, finished_at__isnull=True).exists():
                counts["batches_closed"] += 1

    from generations import idempotency  # the API's Idempotency-Key replies live 24 hours

    pruned = idempotency.prune_expired()
    if pruned:
        log.info("sweep: deleted %d Idempotency-Key records older than 24 hours", pruned)
    return counts


# --- The studio's library: stars and deletion ---------------------------------------------


def set_starred(*, user: User, generations: Sequence[Generation], starred: bool) -> int:
    """Star or unstar generations `user` may see (stars are per user). Returns how many changed."""
    own = allowed(user, generations, Action.STAR)
    if not starred:
        return Star.objects.filter(user=user, generation__in=own).delete()[0]
    existing = set(Star.objects.filter(user=user, generation__in=own).values_list("generation_id", flat=True))
    fresh = [Star(user=user, generation=g) for g in own if g.pk not in existing]
    Star.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def allowed(user: User, generations: Sequence[Generation], action: Action) -> list[Generation]:
    """Those of `generations` on which `user` may take `action` in their workspace (one query)."""
    team_ids = {g.team_id for g in generations if g.team_id is not None}
    roles = dict(Membership.objects.filter(user=user, team_id__in=team_ids).values_list("team_id", "role"))
    return [
        g for g in generations if (g.user_id == user.pk if g.team_id is None else allows(roles.get(g.team_id), action))
    ]


def delete(*, user: User, generations: Sequence[Generation]) -> int:
    """Delete `user`'s own generations (in any workspace) and, once that commits, their files.

    One still in progress is canceled (and refunded) first, so no credits are lost with
    it. The ledger keeps its entries: they name the generation by its public id.
    """
    own_ids = [g.pk for g in generations if g.user_id == user.pk]
    with transaction.atomic():
        for pk in Generation.objects.filter(pk__in=own_ids, stage__in=UNFINISHED).values_list("pk", flat=True):
            _end_unfinished(pk, stage=Stage.CANCELED, code="canceled", message="Deleted by its owner.", note="Deleted")
        doomed = list(Generation.objects.filter(pk__in=own_ids))
        Generation.objects.filter(pk__in=[g.pk for g in doomed]).delete()
        transaction.on_commit(lambda: [storage.delete_images(g) for g in doomed])
    return len(doomed)
