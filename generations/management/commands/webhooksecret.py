from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from generations.webhooks import signing as webhook_signing


class Command(BaseCommand):
    help = (
        "Print a user's webhook signing secret, and only it, for scripts. With --rotate, make a new "
        "one first; the old one keeps signing beside it for 24 hours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="The username.")
        parser.add_argument("--rotate", action="store_true", help="Replace the secret with a new one first.")

    def handle(self, *args: object, **opts: object) -> None:
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"No user {opts['user']!r}.")
        if opts["rotate"]:
            secret = webhook_signing.rotate_secret(user)
            self.stderr.write("Rotated. The previous secret keeps signing for 24 hours.")
        else:
            secret = webhook_signing.current_secret(user)
        self.stdout.write(secret)
