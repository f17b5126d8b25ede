import multiprocessing

import pytest
from django.db import transaction

from accounts import ledger
from accounts.ledger import InsufficientCredits
from accounts.models import LedgerEntry, User
from tests.procs import charge_many


def test_signup_grants_the_documents_50_credits_as_a_ledger_entry(make_user):
    user = make_user()
    assert user.credits == 50
    entry = user.ledger.get()
    assert (entry.kind, entry.amount, entry.balance_after) == ("signup", 50, 50)


def test_a_charge_larger_than_the_balance_changes_nothing(make_user):
    user = make_user(credits=3)
    with pytest.raises(InsufficientCredits) as caught, transaction.atomic():
        ledger.grant(user=user, amount=-7)
    assert str(caught.value) == "Not enough credits to complete this generation. Required: 7, Available: 3"
    assert ledger.balance(user) == 3
    assert ledger.ledger_total(user) == 3


@pytest.mark.django_db(transaction=True)
def test_ledger_changes_refuse_to_run_outside_a_transaction(make_user):
    user = make_user()
    with pytest.raises(RuntimeError):
        ledger.grant(user=user, amount=5)


def test_set_balance_writes_one_entry_that_brings_the_sum_to_the_target(make_user):
    user = make_user()
    with transaction.atomic():
        ledger.set_balance(user=user, target=1000)
    assert ledger.balance(user) == 1000 == ledger.ledger_total(user)
    assert user.ledger.filter(kind="grant", amount=950).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_from_several_processes_never_overdraw(make_user):
    from django.db import connection

    user = make_user(credits=700)  # room for exactly 100 charges of 7
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=charge_many, args=(connection.settings_dict["NAME"], user.pk, 40, queue)) for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    charged = sum(ok for ok, _ in results)
    refused = sum(short for _, short in results)
    assert charged == 100
    assert refused == 60
    assert ledger.balance(user) == 0
    assert ledger.ledger_total(user) == 0
    assert User.objects.get(pk=user.pk).credits >= 0
    balances = sorted(LedgerEntry.objects.filter(user=user, note="concurrent").values_list("balance_after", flat=True))
    assert balances == list(range(0, 700, 7))  # every intermediate balance seen exactly once
