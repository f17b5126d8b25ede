"""Settings for the API benchmark's gunicorn: Studio's own, plus a bare JSON view to compare with.

Bench-only. `ROOT_URLCONF` adds `/bench/plain` beside Studio's real URLs, and
`bench/api_urls.py` raises the enterprise tier's limits for the benchmark's account (see there).
"""

from studio.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
