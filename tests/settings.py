"""Settings for the test suite: the real settings, in a private folder per test process.

The folder is put in the environment before the real settings load, so worker and
server subprocesses started by tests inherit it and share the broker folders and files.
"""

import os
import tempfile
from urllib.parse import urlsplit

os.environ.setdefault("STUDIO_VAR_DIR", tempfile.mkdtemp(prefix="studio-test-"))
os.environ.setdefault("STUDIO_BLOCKED_TERMS", "nsfw,gore,forbiddenword")
# pytest-xdist's workers share VAR_DIR (and each has its own test database): one broker
# folder and one counters file each, so a worker process a test starts only ever sees the
# messages of its own test database (ids in another one name other generations). Set, not
# defaulted: the controller's values are in the environment the xdist workers inherit.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ["STUDIO_BROKER_DIR"] = os.path.join(os.environ["STUDIO_VAR_DIR"], f"broker-{_XDIST_WORKER}")
os.environ["STUDIO_CACHE_PATH"] = os.path.join(os.environ["STUDIO_VAR_DIR"], f"cache-{_XDIST_WORKER}.sqlite3")

from studio.settings import *  # noqa: E402, F403
from studio.settings import CACHES, CELERY_BROKER_URL, DATABASES, STORAGES, VAR_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so worker processes started by a test see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
if CELERY_BROKER_URL.startswith("redis://"):
    # On Redis (`python -m tests.backends`), the same: a broker and a cache database each
    # (16 databases: 2 … 13 for gw0 … gw5, 14 and 15 alone), as a Redis user of its own, so a
    # test can make Redis refuse this process's messages and nobody else's.
    _url = urlsplit(CELERY_BROKER_URL)
    _base = f"redis://{_XDIST_WORKER}:{_XDIST_WORKER}@{_url.hostname}:{_url.port}"
    _n = int(_XDIST_WORKER.removeprefix("gw")) if _XDIST_WORKER.startswith("gw") else 6
    CELERY_BROKER_URL = f"{_base}/{2 * _n + 2}"
    # Celery reads CELERY_BROKER_URL from the environment before the settings: set both.
    os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
    if CACHES["default"]["BACKEND"].endswith("RedisCache"):
        CACHES["default"]["LOCATION"] = f"{_base}/{2 * _n + 3}"
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    # And a folder of the bucket each.
    STORAGES["default"]["OPTIONS"]["location"] = f"tests-{_XDIST_WORKER}"

CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / f"celerybeat-schedule-{_XDIST_WORKER}")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STUDIO_ENGINES = {**STUDIO_ENGINES, "fake": "tests.fakes.FakeEngine"}  # noqa: F405

STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
