"""Studio's settings: one module, read from environment variables, embedded defaults.

With no environment at all Studio runs on one machine with no servers: SQLite (WAL),
Celery over Studio's atomic filesystem transport (`studio.broker`), files under `var/media`, counters in `var/cache.sqlite3`,
and a secret key made on first start in `var/secret-key`. `DJANGO_DEBUG=0` is production
(`studio.production`: a real key and explicit hosts required, HTTPS on).
`DATABASE_URL`, `CELERY_BROKER_URL`, `REDIS_URL`/`CACHE_URL` and `STUDIO_STORAGE=s3`
switch to PostgreSQL, Redis and S3-compatible storage without code changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from studio import production, s3
from studio.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STUDIO_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Secret key, hosts, HTTPS (the rules: studio/production.py) -------------------------
# DJANGO_DEBUG unset: one machine, no configuration (a key made once in VAR_DIR, loopback
# hosts, plain http). DJANGO_DEBUG=0: production, which refuses to start without a real
# key and explicit hosts, and turns HTTPS on unless told otherwise.
PRODUCTION = production.requested(env_str("DJANGO_DEBUG"))
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or ("" if PRODUCTION else production.stored_key(VAR_DIR / "secret-key"))
production.refuse_public_key(SECRET_KEY)
# Old keys that still verify signatures and decrypt webhook secrets while a new one takes over.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION:
    production.check_production(secret_key=SECRET_KEY, fallbacks=SECRET_KEY_FALLBACKS, allowed_hosts=ALLOWED_HOSTS)
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Load balancers probe /healthz over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600) if PRODUCTION else 0
# Off unless asked: they bind every subdomain of the site, and preloading is slow to undo.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION and env_bool("DJANGO_SECURE_COOKIES", True)
# The header a TLS-terminating proxy sets to "https", e.g. X-Forwarded-Proto; unset: trust none.
SECURE_PROXY_SSL_HEADER = production.proxy_ssl_header(env_str("DJANGO_SECURE_PROXY_SSL_HEADER"))
# Absolute URLs in API replies (image_url) use this when set, else the request's host.
STUDIO_PUBLIC_URL = env_str("STUDIO_PUBLIC_URL", "").rstrip("/")
# Forms posted from the public address are same-origin even when a proxy rewrites Host.
CSRF_TRUSTED_ORIGINS = [*env_list("DJANGO_CSRF_TRUSTED_ORIGINS", []), *production.origin(STUDIO_PUBLIC_URL)]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Serves /v1/docs from its packaged Swagger UI files (static), not from a CDN.
    "ninja",
    "accounts",
    "generations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.HtmxLoginRedirectMiddleware",
    "studio.unavailable.DatabaseUnavailableMiddleware",  # a locked database: 503 + Retry-After
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.workspace",
                "accounts.context_processors.nav",
                "accounts.context_processors.locale",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# How long a query waits for a lock before failing (SQLite's busy timeout; PostgreSQL's
# lock_timeout and connect_timeout). A web request that cannot get the database within
# this answers 503 `service_unavailable` with Retry-After (the API's envelope, or
# `studio.unavailable` for pages) instead of hanging, so web servers (gunicorn,
# `runserver`) wait 3 s; workers, beat, management commands and the test suite keep
# 20 s, since their work has no client waiting on it. STUDIO_DB_BUSY_TIMEOUT sets both.
_WEB_SERVER = "gunicorn" in sys.modules or sys.argv[1:2] == ["runserver"]
DB_BUSY_TIMEOUT = env_float("STUDIO_DB_BUSY_TIMEOUT", 3.0 if _WEB_SERVER else 20.0)
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))}
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        _pg = DATABASES["default"].setdefault("OPTIONS", {})
        _pg.setdefault("connect_timeout", max(1, round(DB_BUSY_TIMEOUT)))
        _pg["options"] = f"-c lock_timeout={int(DB_BUSY_TIMEOUT * 1000)} {_pg.get('options', '')}".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("STUDIO_SQLITE_PATH", str(VAR_DIR / "studio.sqlite3")),
            # Kept open between requests, as with PostgreSQL: opening one costs more than most
            # /v1 calls (the PRAGMAs, and closing the last connection checkpoints the WAL).
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "OPTIONS": {
                # Writers queue on the lock (up to the busy timeout) instead of failing at once;
                # BEGIN IMMEDIATE takes the write lock up front so a read-then-write
                # transaction cannot deadlock.
                "timeout": DB_BUSY_TIMEOUT,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    f"PRAGMA busy_timeout={int(DB_BUSY_TIMEOUT * 1000)}; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache (rate-limit counters) --------------------------------------------------------
# Redis when configured. Otherwise, with SQLite, a cache file of its own next to the main
# database (`studio.sqlite_cache`: one atomic statement a hit, never the main database's
# write lock; shared by every process on the machine). With PostgreSQL and no Redis, the
# database cache, which every host sharing the database sees.
CACHE_URL = env_str("CACHE_URL", env_str("REDIS_URL", ""))
CACHES: dict[str, dict[str, Any]]
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    CACHES = {
        "default": {
            "BACKEND": "studio.sqlite_cache.SQLiteCache",
            "LOCATION": env_str("STUDIO_CACHE_PATH", str(VAR_DIR / "cache.sqlite3")),
            "OPTIONS": {"busy_timeout": min(DB_BUSY_TIMEOUT, 5.0)},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "studio_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "generations:studio"
LOGOUT_REDIRECT_URL = "accounts:login"
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "studio@localhost")
# With the smtp backend: the mail server (Django's own defaults otherwise).
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

STUDIO_LINK_TTL_SECONDS = env_int("STUDIO_LINK_TTL_SECONDS", 24 * 3600)
# A signed link is reused for this long by the process that made it (signing costs more than
# the rest of a status poll); it is signed for TTL + this, so each reply's links still live
# the full TTL from that reply.
STUDIO_LINK_REUSE_SECONDS = env_int("STUDIO_LINK_REUSE_SECONDS", 60)
# A share link (an image's page for someone without an account) is valid this long by
# default; whoever makes one may pick 1, 7 or 30 days instead.
STUDIO_SHARE_TTL_SECONDS = env_int("STUDIO_SHARE_TTL_SECONDS", 7 * 24 * 3600)
STUDIO_STORAGE = env_str("STUDIO_STORAGE", "local")
_files: dict[str, Any]
if STUDIO_STORAGE == "s3":
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or boto3's usual chain.
    _files = s3.storage(
        bucket=env_str("AWS_STORAGE_BUCKET_NAME"),
        endpoint_url=env_str("AWS_S3_ENDPOINT_URL"),
        region=env_str("AWS_S3_REGION_NAME"),
        addressing_style=env_str("AWS_S3_ADDRESSING_STYLE"),
        link_seconds=STUDIO_LINK_TTL_SECONDS + STUDIO_LINK_REUSE_SECONDS,
    )
else:
    # FileSystemStorage follows settings.MEDIA_ROOT.
    _files = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _files,
    "staticfiles": {
        "BACKEND": env_str("STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage")
    },
}
# Tests run without collectstatic: let whitenoise serve from finders.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)

# --- Content Credentials (generations/provenance.py) -----------------------------------
# Every PNG and WebP carries the IPTC digital source type in XMP (always) and a C2PA
# manifest signed with this certificate chain (PEM, leaf first) and key (PEM). Unset: a
# development CA and certificate made on first use in STUDIO_C2PA_DIR, for development only.
STUDIO_C2PA = env_bool("STUDIO_C2PA", True)
STUDIO_C2PA_CERT = env_str("STUDIO_C2PA_CERT")
STUDIO_C2PA_KEY = env_str("STUDIO_C2PA_KEY")
STUDIO_C2PA_DIR = Path(env_str("STUDIO_C2PA_DIR", str(VAR_DIR / "c2pa")))
# CA certificates (PEM) the image page trusts when it checks a file's credentials; unset,
# the development CA when the development certificate signs.
STUDIO_C2PA_TRUST_ANCHORS = env_str("STUDIO_C2PA_TRUST_ANCHORS")
if bool(STUDIO_C2PA_CERT) != bool(STUDIO_C2PA_KEY):
    raise ImproperlyConfigured("Set both STUDIO_C2PA_CERT and STUDIO_C2PA_KEY (PEM paths), or neither.")

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(env_str("STUDIO_BROKER_DIR", str(VAR_DIR / "broker")))
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Each hop of an image (web -> render slot, render slot -> notifier) waits half of this on
        # average; an idle consumer spends about 1.5% of a core polling every 20 ms (0.9% at 50 ms).
        "polling_interval": env_float("STUDIO_BROKER_POLL_SECONDS", 0.02),
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than the longest job, so a slow render is not redelivered while it runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("STUDIO_VISIBILITY_TIMEOUT", 3 * 3600)}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "generations.tasks.render": {"queue": env_str("STUDIO_RENDER_QUEUE", "render")},
    "generations.tasks.deliver_webhook": {"queue": "webhooks"},
}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("STUDIO_RENDER_SOFT_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("STUDIO_RENDER_HARD_LIMIT", 660)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The sweeper is the recovery path for a SIGKILLed render (the embedded broker cannot
# redeliver what a dead consumer took), so it runs every few seconds.
STUDIO_SWEEP_INTERVAL_SECONDS = env_float("STUDIO_SWEEP_INTERVAL_SECONDS", 3.0)

# --- Studio -----------------------------------------------------------------------------
# Engine name -> class. Operators may add their own.
STUDIO_ENGINES = {
    "typeset": "generations.engines.typeset.TypesetEngine",
    "ark": "generations.engines.ark.ArkEngine",
    "openai": "generations.engines.openai_compat.OpenAICompatEngine",
    "diffusers": "generations.engines.diffusers_engine.DiffusersEngine",
}
# Public model id -> engine and its options. STUDIO_MODELS_JSON replaces the catalog,
# e.g. '{"seedream-5.0-lite": {"engine": "ark", "options": {"api_key": "..."}}}'.
# Any entry's options may set "exact_text": true|false: the prompt's quoted text lettered
# exactly onto the model's picture (generations/engines/overlay.py). Unset, it is on for
# diffusers and for openai models other than gpt-image-* (they cannot spell), off for ark
# (Seedream spells well) and other engines; never for typeset, which letters text itself.
STUDIO_MODELS = json.loads(env_str("STUDIO_MODELS_JSON", "") or "null") or {
    "seedream-5.0-lite": {"engine": "typeset", "options": {}},
}
STUDIO_BLOCKED_TERMS = env_list("STUDIO_BLOCKED_TERMS", ["nsfw", "gore", "child abuse", "beheading"])
# A generation not finished this long after it was submitted fails and is refunded.
STUDIO_GENERATION_DEADLINE_SECONDS = env_int("STUDIO_GENERATION_DEADLINE_SECONDS", 15 * 60)
# Queued work not picked up this long after it was last enqueued is enqueued again.
STUDIO_REQUEUE_AFTER_SECONDS = env_int("STUDIO_REQUEUE_AFTER_SECONDS", 120)
# … or this long, when the render queue is empty (its message is gone: a worker died
# between taking it and claiming it).
STUDIO_LOST_MESSAGE_SECONDS = env_float("STUDIO_LOST_MESSAGE_SECONDS", 5.0)
# A rendering worker touches its generation every HEARTBEAT seconds; one whose heartbeat
# is older than three of them has died, and its claim is taken over (by a redelivered
# task at once, or by the sweeper's next pass).
STUDIO_HEARTBEAT_SECONDS = env_float("STUDIO_HEARTBEAT_SECONDS", 2.0)
STUDIO_RENDER_STALE_SECONDS = env_float("STUDIO_RENDER_STALE_SECONDS", 3 * STUDIO_HEARTBEAT_SECONDS)
# Each worker process says it is alive every WORKER_BEAT seconds, per queue (`/healthz`);
# a queue with no beat for WORKER_STALE seconds has no live worker.
STUDIO_WORKER_BEAT_SECONDS = env_float("STUDIO_WORKER_BEAT_SECONDS", 2.0)
STUDIO_WORKER_STALE_SECONDS = env_float("STUDIO_WORKER_STALE_SECONDS", 5 * STUDIO_WORKER_BEAT_SECONDS)
STUDIO_PROGRESS_MIN_INTERVAL = env_float("STUDIO_PROGRESS_MIN_INTERVAL", 0.25)
# Progress as a stream (GET /v1/images/{id}/events): how often a stream re-reads its row, the
# keep-alive comment's interval, and how long one stream lasts before the client reconnects
# with Last-Event-ID. A stream holds a web server thread, so each process serves at most
# EVENTS_MAX_STREAMS at once (429 `too_many_streams` beyond): by default all but two of its
# WEB_THREADS (gunicorn's --threads, set from the same variable by `make run` and the
# Procfile), so other requests always find a free thread.
STUDIO_EVENTS_POLL_SECONDS = env_float("STUDIO_EVENTS_POLL_SECONDS", 0.25)
STUDIO_EVENTS_KEEPALIVE_SECONDS = env_float("STUDIO_EVENTS_KEEPALIVE_SECONDS", 15.0)
STUDIO_EVENTS_MAX_SECONDS = env_float("STUDIO_EVENTS_MAX_SECONDS", 300.0)
STUDIO_EVENTS_RETRY_MS = env_int("STUDIO_EVENTS_RETRY_MS", 1000)
WEB_THREADS = env_int("WEB_THREADS", 4)  # what the Procfile and the Dockerfile give gunicorn by default
STUDIO_EVENTS_MAX_STREAMS = env_int("STUDIO_EVENTS_MAX_STREAMS", 0 if WEB_THREADS < 2 else max(1, WEB_THREADS - 2))
STUDIO_WEBHOOK_ALLOW_PRIVATE = env_bool("STUDIO_WEBHOOK_ALLOW_PRIVATE", False)
STUDIO_WEBHOOK_TIMEOUT_SECONDS = env_float("STUDIO_WEBHOOK_TIMEOUT_SECONDS", 10.0)
# Seconds before each delivery attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
# (about 28 hours in all); a delivery whose last attempt fails is marked failed.
STUDIO_WEBHOOK_RETRY_SCHEDULE = [
    int(s)
    for s in env_list("STUDIO_WEBHOOK_RETRY_SCHEDULE", ["0", "5", "300", "1800", "7200", "18000", "36000", "36000"])
]
# The last resort for absolute links sent with no request to take a host from: webhook
# links start with STUDIO_PUBLIC_URL, else the host of the request that submitted the
# generation (`generations.links`), else this (rows from `manage.py generate`); team
# invitation emails use it when STUDIO_PUBLIC_URL is unset. Where `make run` serves.
STUDIO_WEBHOOK_LINK_BASE_URL = env_str("STUDIO_WEBHOOK_LINK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
