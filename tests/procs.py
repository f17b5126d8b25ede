"""Functions that run in child processes started by tests (spawned: no Django state shared).

They import Django themselves, so this module must not import models at the top.
"""

from __future__ import annotations

import os


def use_test_database(db_name: str) -> None:
    """Point this child at the test database (a file on SQLite, a name on PostgreSQL)."""
    os.environ["STUDIO_SQLITE_PATH"] = db_name
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db_name


def charge_many(db_name: str, user_id: int, times: int, queue) -> None:
    use_test_database(db_name)
    import django

    django.setup()
    from django.db import transaction

    from accounts import ledger
    from accounts.ledger import InsufficientCredits
    from accounts.models import User

    ok = short = 0
    user = User.objects.get(pk=user_id)
    for _ in range(times):
        try:
            with transaction.atomic():
                ledger.grant(user=user, amount=-7, kind="charge", note="concurrent")
            ok += 1
        except InsufficientCredits:
            short += 1
    queue.put((ok, short))
