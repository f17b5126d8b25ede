from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Create an API key for a user and print only the key (it is not stored and cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="Command line")

    def handle(self, *args: object, **opts: Any) -> None:  # argparse's values
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"No user {opts['user']!r}.")
        _, raw = services.create_api_key(user=user, name=opts["name"])
        self.stdout.write(raw)
