import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.ledger import InsufficientCredits
from accounts.models import User
from generations import services, specs
from generations.models import Generation


class Command(BaseCommand):
    help = "Submit a generation through the same service as the API and the studio."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prompt")
        parser.add_argument("--user", required=True)
        parser.add_argument("--model", default=specs.DEFAULT_MODEL)
        parser.add_argument("--negative-prompt", default="", help="What the image should avoid.")
        parser.add_argument("--aspect-ratio", default=specs.DEFAULT_ASPECT_RATIO)
        parser.add_argument("--style", default=specs.DEFAULT_STYLE)
        parser.add_argument("--colors", default="", help='Comma-separated hex codes: "#ff0000,#0000ff".')
        parser.add_argument("--deep-thinking", action="store_true")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--count", type=int, default=1, help="More than one is submitted as a batch.")
        parser.add_argument("--wait", action="store_true", help="Show progress until every image is finished.")
        parser.add_argument("--timeout", type=float, default=600.0, help="Seconds to wait with --wait.")

    def handle(self, *args: object, **opts: Any) -> None:  # argparse's values
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"No user {opts['user']!r}.")
        raw = {
            "model": opts["model"],
            "prompt": opts["prompt"],
            "negative_prompt": opts["negative_prompt"],
            "aspect_ratio": opts["aspect_ratio"],
            "style": opts["style"],
            "colors": [c.strip() for c in opts["colors"].split(",") if c.strip()] or None,
            "deep_thinking": opts["deep_thinking"],
            "seed": opts["seed"],
        }
        try:
            spec = specs.build_spec(raw)
            # No request to take a host from: webhook links use STUDIO_PUBLIC_URL, or the fallback.
            base_url = settings.STUDIO_PUBLIC_URL
            if opts["count"] == 1:
                submitted = services.submit(user=user, spec=spec, public_base_url=base_url)
            else:
                submitted = services.submit_batch(user=user, specs_=[spec] * opts["count"], public_base_url=base_url)
        except specs.SpecError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        except (InsufficientCredits, services.RateLimited, services.BatchTooLarge) as exc:
            raise CommandError(str(exc)) from exc
        if submitted.batch:
            self.stdout.write(f"batch {submitted.batch.public_id}")
        ids = [g.pk for g in submitted.generations]
        if opts["wait"]:
            self._wait(ids, opts["timeout"])
        for g in Generation.objects.filter(pk__in=ids).order_by("batch_index", "pk"):
            path = ""
            if g.image_png:
                from django.core.files.storage import default_storage

                try:
                    path = default_storage.path(g.image_png)
                except NotImplementedError:
                    path = g.image_png
            line = f"{g.public_id} {g.status}"
            if g.error_message:
                line += f" ({g.error_code}: {g.error_message})"
            self.stdout.write(f"{line} {path}".rstrip())
        self.stdout.write(f"credits remaining: {submitted.credits_remaining}")

    def _wait(self, ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        tty = sys.stderr.isatty()
        last = ""
        while True:
            rows = list(Generation.objects.filter(pk__in=ids).values_list("progress", "stage", "progress_note"))
            done = sum(1 for _, stage, _ in rows if stage in ("completed", "failed", "canceled"))
            fraction = sum(1.0 if stage in ("completed", "failed", "canceled") else p for p, stage, _ in rows) / len(
                rows
            )
            note = next((n for _, stage, n in rows if stage not in ("completed", "failed", "canceled")), "done")
            filled = int(fraction * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:5.1f}%  {done}/{len(rows)}  {note}"
            if tty:
                sys.stderr.write("\r" + bar.ljust(80))
            elif bar != last:
                sys.stderr.write(bar + "\n")
            last = bar
            sys.stderr.flush()
            if done == len(rows):
                break
            if time.monotonic() > deadline:
                sys.stderr.write("\n")
                raise CommandError(f"Still not finished after {timeout:.0f} s; the worker may not be running.")
            time.sleep(0.2)
        if tty:
            sys.stderr.write("\n")
