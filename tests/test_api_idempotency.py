"""Idempotency-Key on both POSTs: one charge, the first reply again, 409 for a different body."""

import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from accounts import ledger
from accounts.models import LedgerEntry
from generations import services
from generations.api import idempotency
from generations.models import Batch, Generation, IdempotencyRecord
from generations.worker import sweep
from tests.api_support import MODEL, assert_error

BODY = {"model": MODEL, "prompt": "A lighthouse in a storm", "seed": 7}


def post(acct, key: str, body: dict | None = None, path: str = "/images/generate") -> httpx.Response:
    return acct.http.post(path, json=body or BODY, headers={"Idempotency-Key": key})


def charges(acct) -> int:
    return LedgerEntry.objects.filter(user=acct.user, kind="charge").count()


def test_the_same_key_and_body_twice_returns_the_first_reply_and_charges_once(account):
    acct = account(credits=100)
    first = post(acct, "order-1")
    again = post(acct, "order-1", {"seed": 7, "prompt": "A lighthouse in a storm", "model": MODEL})  # key order
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["X-RateLimit-Remaining"] == str(int(first.headers["X-RateLimit-Remaining"]) - 1)
    assert Generation.objects.count() == 1 and charges(acct) == 1
    assert ledger.balance(acct.user) == 93


def test_the_same_key_with_a_different_body_is_409(account):
    acct = account(credits=100)
    post(acct, "order-1")
    message = assert_error(post(acct, "order-1", {**BODY, "prompt": "Something else"}), 409, "idempotency_key_reused")
    assert "different request body" in message
    assert charges(acct) == 1


def test_keys_are_per_account_and_per_endpoint(account):
    alice, bob = account(credits=100), account(credits=100)
    assert post(alice, "k").status_code == 200
    assert post(bob, "k").status_code == 200
    batch = post(alice, "k", {"generations": [BODY]}, path="/images/batch")
    assert batch.status_code == 200 and "batch_id" in batch.json()
    assert charges(alice) == 2 and charges(bob) == 1


def test_a_batch_sent_twice_with_a_key_is_created_once(account):
    acct = account(credits=100)
    body = {"generations": [BODY, {**BODY, "seed": 8}]}
    first = post(acct, "batch-1", body, path="/images/batch")
    again = post(acct, "batch-1", body, path="/images/batch")
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert Batch.objects.count() == 1 and charges(acct) == 2


def test_sent_twice_in_parallel_the_key_charges_once(account, monkeypatch):
    acct = account(credits=100)
    real_claim = idempotency.claim
    second_arrived = threading.Event()
    claims = []

    def claim(**kwargs):
        claims.append(kwargs["key"])
        order = len(claims)
        if order == 2:
            second_arrived.set()
        result = real_claim(**kwargs)
        if order == 1:
            # The first request holds the key, its work not yet done, until the second is at the door.
            assert second_arrived.wait(10), "the second request never arrived"
        return result

    monkeypatch.setattr(idempotency, "claim", claim)
    start = threading.Barrier(2)
    replies: list[httpx.Response] = []

    def send():
        start.wait()
        replies.append(post(acct, "parallel-1"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(replies) == 2
    assert [r.status_code for r in replies] == [200, 200]
    assert replies[0].json() == replies[1].json()
    assert sorted(r.headers.get("Idempotent-Replayed", "-") for r in replies) == ["-", "true"]
    assert Generation.objects.count() == 1 and charges(acct) == 1
    assert ledger.balance(acct.user) == 93 == ledger.ledger_total(acct.user)


def test_simultaneous_pairs_with_no_help_each_charge_once(account):
    acct = account(credits=1000)
    replies: dict[str, list[httpx.Response]] = {f"race-{i}": [] for i in range(5)}

    def send(key: str, start: threading.Barrier) -> None:
        start.wait()
        replies[key].append(post(acct, key, {**BODY, "seed": int(key[-1])}))

    for key in replies:
        start = threading.Barrier(2)
        pair = [threading.Thread(target=send, args=(key, start)) for _ in range(2)]
        for t in pair:
            t.start()
        for t in pair:
            t.join(30)
    for pair in replies.values():
        assert [r.status_code for r in pair] == [200, 200]
        assert pair[0].json() == pair[1].json()
    assert Generation.objects.count() == 5 and charges(acct) == 5


def test_a_request_that_finds_the_key_in_progress_waits_for_the_first_reply(account, monkeypatch):
    acct = account(credits=100)
    first = post(acct, "wait-1")
    record = IdempotencyRecord.objects.get(key="wait-1")
    stored = (record.response_status, record.response_body)
    IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=None, response_body=None)

    def first_request_finishes(seconds):  # while the second request polls, the first one stores its reply
        IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=stored[0], response_body=stored[1])

    monkeypatch.setattr(idempotency.time, "sleep", first_request_finishes)
    again = post(acct, "wait-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert charges(acct) == 1


def test_a_key_still_in_progress_after_the_wait_is_409(account, monkeypatch):
    acct = account(credits=100)
    IdempotencyRecord.objects.create(
        user=acct.user, key="busy", endpoint="images.generate", request_hash=idempotency.fingerprint(BODY)
    )
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0)
    assert "still being processed" in assert_error(post(acct, "busy"), 409, "idempotency_in_progress")
    assert charges(acct) == 0


def test_a_claim_left_by_a_dead_process_is_taken_over(account):
    acct = account(credits=100)
    IdempotencyRecord.objects.create(
        user=acct.user,
        key="orphan",
        endpoint="images.generate",
        request_hash=idempotency.fingerprint(BODY),
        created_at=timezone.now() - timedelta(seconds=idempotency.STALE_SECONDS + 1),
    )
    assert post(acct, "orphan").status_code == 200
    assert charges(acct) == 1


def test_a_validation_error_is_stored_and_replayed(account):
    acct = account(credits=100)
    bad = {**BODY, "aspect_ratio": "2:1"}
    first = post(acct, "bad-1", bad)
    again = post(acct, "bad-1", bad)
    assert_error(first, 400, "invalid_aspect_ratio")
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


def test_an_answer_that_may_change_is_not_stored_so_a_retry_can_succeed(account):
    acct = account(credits=3)
    assert_error(post(acct, "topup-1"), 402, "insufficient_credits")
    assert not IdempotencyRecord.objects.exists()
    from django.db import transaction

    with transaction.atomic():
        ledger.grant(user=acct.user, amount=10, note="top-up")
    assert post(acct, "topup-1").status_code == 200
    assert charges(acct) == 1


def test_a_server_error_releases_the_key_and_charges_nothing(account, monkeypatch):
    acct = account(credits=100)
    real_submit = services.submit

    def crash_after_charging(**kwargs):
        real_submit(**kwargs)
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(services, "submit", crash_after_charging)
    assert_error(post(acct, "crash-1"), 500, "server_error")
    assert ledger.balance(acct.user) == 100 and not Generation.objects.exists()  # rolled back with the reply
    monkeypatch.setattr(services, "submit", real_submit)
    assert post(acct, "crash-1").status_code == 200
    assert charges(acct) == 1


def test_a_key_older_than_24_hours_is_forgotten(account):
    acct = account(credits=100)
    post(acct, "old-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = post(acct, "old-1")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert charges(acct) == 2
    assert idempotency.prune_expired() == 0  # the expired record was replaced, not kept


def test_prune_deletes_only_expired_records(account):
    acct = account(credits=100)
    post(acct, "a")
    post(acct, "b", {**BODY, "seed": 9})
    IdempotencyRecord.objects.filter(key="a").update(created_at=timezone.now() - timedelta(days=2))
    assert idempotency.prune_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["b"]


def test_the_sweeper_deletes_expired_records(account):
    acct = account(credits=100)
    post(acct, "a")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    sweep.sweep()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["x" * 256, "ключ".encode(), "tab\tinside"])
def test_an_unusable_key_is_400(account, key):
    acct = account(credits=100)
    response = acct.http.post("/images/generate", json=BODY, headers={"Idempotency-Key": key})
    assert_error(response, 400, "invalid_idempotency_key")
    assert charges(acct) == 0
