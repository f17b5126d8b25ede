"""Gallery benchmark: server-side render time of the studio page with 200 and 20 000 images.

Builds a fresh database (SQLite in a temporary folder; with DATABASE_URL set to PostgreSQL, a
throwaway `test_<name>` database on that server, dropped at the end), bulk-creates completed
generations for one user (varied prompts, styles and ratios; file names only, since the page
links to thumbnails and never opens them), then renders through Django's test Client (the
real middleware, view, selectors and templates):

  - the gallery's first page (`/`, the whole studio page: form, filters and 48 tiles);
  - searches (`/?q=...`, the HTMX fragment the filter bar asks for): a word in about 1% of
    prompts, the same word half typed (search-as-you-type), a word in about 15% of prompts,
    two words, and a word in none (for a scan, the worst case: every row is looked at);

each the median of N runs after warm-up, printed for 200 and 20 000 images side by side
with their ratio; then the same searches through `selectors.history` alone, the database's
part without the template (a page of 48 tiles takes longer to render than one of 2, which
the first table's ratios include). The goal is under 100 ms each at 20 000, and a search
whose database part stays flat as the history grows.

Run: .venv/bin/python bench/gallery.py [--n 30]
     DATABASE_URL=postgres://user@host:port/db .venv/bin/python bench/gallery.py
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch import folder  # noqa: E402

_VAR = str(folder("gallery-"))
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
os.environ["STUDIO_VAR_DIR"] = _VAR
os.environ["STUDIO_SQLITE_PATH"] = str(Path(_VAR) / "gallery.sqlite3")
os.environ["MEDIA_ROOT"] = str(Path(_VAR) / "media")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
# No collectstatic in a benchmark: plain static storage, so {% static %} needs no manifest.
os.environ["STATICFILES_BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import services as account_services  # noqa: E402
from generations import selectors, specs  # noqa: E402
from generations.models import Generation, Stage, Star, new_image_id  # noqa: E402

SUBJECTS = ["mountain lake", "city skyline", "ceramic mug", "red fox", "paper boat", "jazz poster", "cosy bedroom",
            "harbour", "desert road", "forest path", "coffee shop", "robot", "sailing ship", "tulip field",
            "neon sign", "old library", "glass bottle", "snowy cabin", "koi pond", "race car"]  # fmt: skip
SETTINGS = ["at sunrise", "at dusk", "in the rain", "under neon lights", "in soft morning light", "at golden hour",
            "on a pastel background", "in heavy fog", "under a starry sky", "in autumn"]  # fmt: skip
EXTRAS = ["poster that says \"Open late\"", "with bold typography", "wide angle", "macro shot", "flat illustration",
          "isometric view", "cinematic lighting", "minimal composition", "lots of detail"]  # fmt: skip
RARE_WORD = "lighthouse"  # put in about 1% of prompts
COMMON_WORD = "neon"  # in about 15% of prompts ("neon sign", "under neon lights")
MISSING_WORD = "zebra"  # in none: a scan must look at every row


def prompt_for(rng: random.Random, i: int) -> str:
    words = f"{rng.choice(SUBJECTS)} {rng.choice(SETTINGS)}, {rng.choice(EXTRAS)}"
    return f"A {RARE_WORD} and a {words}" if i % 100 == 0 else f"A {words}"


def add_generations(user, count: int, *, start: int, rng: random.Random) -> None:
    """Bulk-create `count` completed generations, newest last, in chunks."""
    ratios, styles = list(specs.ASPECT_RATIOS), list(specs.STYLES)
    base = timezone.now() - timedelta(days=400)
    chunk: list[Generation] = []
    for i in range(start, start + count):
        ratio = ratios[i % len(ratios)]
        width, height = specs.ASPECT_RATIOS[ratio]
        created = base + timedelta(minutes=i)
        public_id = new_image_id()
        stamp = created.strftime("%Y/%m")
        chunk.append(
            Generation(
                public_id=public_id, user=user, model="seedream-5.0-lite", engine="typeset",
                prompt=prompt_for(rng, i), aspect_ratio=ratio, width=width, height=height,
                style=styles[i % len(styles)], colors=["#1e3a8a", "#f59e0b"] if i % 3 == 0 else [],
                deep_thinking=i % 4 == 0, seed=rng.randrange(2**32), stage=Stage.COMPLETED, progress=1.0,
                credits_charged=7, created_at=created, enqueued_at=created, started_at=created,
                finished_at=created + timedelta(seconds=3), deadline_at=created + timedelta(minutes=15),
                render_seconds=2.5, image_png=f"generations/{stamp}/{public_id}.png",
                image_webp=f"generations/{stamp}/{public_id}.webp",
                thumbnail=f"generations/{stamp}/{public_id}.thumb.webp", file_size=400_000,
            )
        )  # fmt: skip
        if len(chunk) == 2000:
            Generation.objects.bulk_create(chunk)
            chunk = []
    if chunk:
        Generation.objects.bulk_create(chunk)
    # Some stars, as a designer would have.
    recent = Generation.objects.filter(user=user).order_by("-created_at")[:500]
    Star.objects.bulk_create([Star(user=user, generation=g) for g in recent[::25]], ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def median_ms(client: Client, url: str, n: int, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """Median wall time of GET `url` in ms after warm-up, and the number of tiles it rendered."""
    for _ in range(3):
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {})
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, response.content.decode().count('<figure id="gen-')


SEARCHES = {
    f"search '{RARE_WORD}' (~1% of prompts)": RARE_WORD,
    f"search '{RARE_WORD[:4]}' (typing: a prefix)": RARE_WORD[:4],
    f"search '{COMMON_WORD}' (~15% of prompts)": COMMON_WORD,
    f"search '{COMMON_WORD} {RARE_WORD}' (two words)": f"{COMMON_WORD} {RARE_WORD}",
    f"search '{MISSING_WORD}' (no match)": MISSING_WORD,
}


def selector_ms(user, query: str, n: int) -> tuple[float, int]:
    """Median time of the selector alone (the database's part, no rendering), and the rows it returned."""
    for _ in range(3):
        selectors.history(user, query=query, limit=48)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        page = selectors.history(user, query=query, limit=48)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, len(page.items)


def measure(client: Client, user, n: int) -> tuple[dict[str, tuple[float, int]], dict[str, tuple[float, int]]]:
    """(pages rendered, searches through the selector alone)."""
    fragment = {"HX-Request": "true", "HX-Target": "gallery-results"}
    pages = {
        "first page (full studio page)": median_ms(client, "/", n),
        **{name: median_ms(client, f"/?{urlencode({'q': q})}", n, fragment) for name, q in SEARCHES.items()},
    }
    return pages, {name: selector_ms(user, q, n) for name, q in SEARCHES.items()}


def table(title: str, small: dict[str, tuple[float, int]], large: dict[str, tuple[float, int]], sizes) -> bool:
    head = f"{title:<46}{f'{sizes[0]} images':>16}{f'{sizes[1]} images':>18}{'ratio':>9}{'< 100 ms':>10}"
    print(head)
    print("-" * len(head))
    ok = True
    for name in small:
        (a, tiles_a), (b, tiles_b) = small[name], large[name]
        ok &= b < 100
        cells = f"{a:>9.1f} ms ({tiles_a:>2})" + f"{b:>11.1f} ms ({tiles_b:>2})"
        print(f"{name:<46}{cells}{b / a:>8.2f}x{'yes' if b < 100 else 'NO':>10}")
    print()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30, help="timed runs per page (median reported)")
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=20_000)
    args = parser.parse_args()

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
    else:  # a throwaway database next to the one DATABASE_URL names, migrated, dropped at exit
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        atexit.register(connection.creation.destroy_test_db, old_name, verbosity=0)
    user = account_services.create_user(username="designer", password=None)
    client = Client()
    client.force_login(user)
    rng = random.Random(5)

    add_generations(user, args.small, start=0, rng=rng)
    small_pages, small_searches = measure(client, user, args.n)
    t0 = time.perf_counter()
    add_generations(user, args.large - args.small, start=args.small, rng=rng)
    built = time.perf_counter() - t0
    large_pages, large_searches = measure(client, user, args.n)

    database = connection.display_name
    print(f"Gallery render, server side (Django test Client, {database}, median of {args.n} after warm-up)")
    print(f"({args.large - args.small} rows bulk-created in {built:.1f} s into a fresh temporary database)")
    print()
    sizes = (args.small, args.large)
    ok = table("page", small_pages, large_pages, sizes)
    print("(n) = tiles rendered on the page: a page of 48 costs more to render than one of 2.")
    print()
    ok &= table("selectors.history alone (no rendering)", small_searches, large_searches, sizes)
    print("(n) = rows returned. " + ("All under 100 ms." if ok else "Some are over 100 ms."))


if __name__ == "__main__":
    main()
