# syntax=docker/dockerfile:1.7
# One image, two roles:
#   docker run IMAGE web      -> gunicorn on :8000
#   docker run IMAGE worker   -> a Celery worker: QUEUES=render is one render slot (solo pool; run one
#                                container per slot or GPU), QUEUES=webhooks,default the notifier
#   docker run IMAGE beat     -> the sweeper (run exactly one)
# The image is production (DJANGO_DEBUG=0): it refuses to start until it is given
# DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS (README, "Production"); it holds no key of its own.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    STUDIO_VAR_DIR=/data DJANGO_DEBUG=0 PORT=8000
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic loads the settings, so it runs on the embedded defaults, whose key is made in a
# folder deleted in the same step: nothing secret stays in a layer.
RUN env -u DJANGO_DEBUG STUDIO_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-var \
    && useradd --create-home studio && mkdir -p /data && chown studio /data
COPY <<'SH' /usr/local/bin/studio-entry
#!/bin/sh
set -e
case "${1:-web}" in
  migrate)
    exec python manage.py migrate --noinput ;;
  web)
    # One node: migrate on start. Many web nodes: STUDIO_MIGRATE_ON_START=0 and run `migrate` once.
    if [ "${STUDIO_MIGRATE_ON_START:-1}" = 1 ]; then python manage.py migrate --noinput; fi
    exec gunicorn studio.wsgi:application --bind "0.0.0.0:${PORT}" --workers "${WEB_CONCURRENCY:-2}" --threads "${WEB_THREADS:-4}" --access-logfile - ;;
  worker)
    case "${QUEUES:-render}" in
      render) exec celery -A studio worker --queues render --pool solo --without-gossip --without-mingle --loglevel INFO ;;
      *) exec celery -A studio worker --queues "${QUEUES}" --pool threads --concurrency "${WORKER_CONCURRENCY:-4}" --loglevel INFO ;;
    esac ;;
  beat)
    exec celery -A studio beat --loglevel INFO --schedule /data/celerybeat-schedule ;;
  *)
    exec "$@" ;;
esac
SH
USER studio
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["/bin/sh", "/usr/local/bin/studio-entry"]
CMD ["web"]
