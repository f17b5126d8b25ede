from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import ledger, services
from accounts.models import User
from accounts.tiers import Tier


class Command(BaseCommand):
    help = "Create a user as signup does (50 free credits); optionally set tier and balance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--tier", choices=Tier.values, default=Tier.FREE)
        parser.add_argument("--credits", type=int, help="Bring the balance to this number (a ledger entry).")
        parser.add_argument("--superuser", action="store_true", help="Also give admin access.")

    def handle(self, *args: object, **opts: Any) -> None:  # argparse's values
        if User.objects.filter(username=opts["username"]).exists():
            raise CommandError(
                f"User {opts['username']!r} exists already (signed up in the browser?). To give it credits "
                f"or a tier, use: manage.py grantcredits {opts['username']} 1000 --tier pro"
            )
        if opts["credits"] is not None and opts["credits"] < 0:
            raise CommandError("--credits cannot be negative.")
        with transaction.atomic():
            user = services.create_user(
                username=opts["username"], password=opts["password"], email=opts["email"], tier=opts["tier"]
            )
            if opts["superuser"]:
                User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
            if opts["credits"] is not None:
                ledger.set_balance(user=user, target=opts["credits"], note="createuser --credits")
        self.stdout.write(f"Created {user.username} ({user.tier}) with {ledger.balance(user)} credits.")
