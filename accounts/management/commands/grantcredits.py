from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import ledger, services
from accounts.ledger import InsufficientCredits
from accounts.models import User
from accounts.tiers import Tier


class Command(BaseCommand):
    help = "Grant (or, negative, take) credits through the ledger, and/or set a user's tier."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("amount", type=int, nargs="?", default=0, help="Credits to add; negative to take.")
        parser.add_argument("--tier", choices=Tier.values)
        parser.add_argument("--note", default="Admin grant")

    def handle(self, *args: object, **opts: Any) -> None:  # argparse's values
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"No user {opts['username']!r}.")
        if not opts["amount"] and not opts["tier"]:
            raise CommandError("Give an amount, --tier, or both.")
        with transaction.atomic():
            if opts["tier"]:
                services.set_tier(user=user, tier=opts["tier"])
            if opts["amount"]:
                try:
                    ledger.grant(user=user, amount=opts["amount"], note=opts["note"])
                except InsufficientCredits as exc:
                    raise CommandError(
                        f"Cannot take {-opts['amount']} credits: the balance is {exc.available}."
                    ) from exc
        self.stdout.write(f"{user.username}: {ledger.balance(user)} credits, tier {user.tier}.")
