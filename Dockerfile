# syntax=docker/dockerfile:1.7
# One image, two roles:
#   docker run IMAGE web      -> gunicorn on :8000
#   docker run IMAGE worker   -> a Celery worker: QUEUES=render is one render slot (solo pool; run one
#                                container per slot or GPU), QUEUES=webhooks,default the notifier
#   docker run IMAGE beat     -> the sweeper (run exactly one)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    STUDIO_VAR_DIR=/data DJANGO_ALLOWED_HOSTS=* PORT=8000
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN DJANGO_SECRET_KEY=build python manage.py collectstatic --noinput -v 0 \
    && useradd --create-home studio && mkdir -p /data && chown studio /data
COPY <<'SH' /usr/local/bin/studio-entry
#!/bin/sh
set -e
case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    exec gunicorn studio.wsgi:application --bind "0.0.0.0:${PORT}" --workers "${WEB_CONCURRENCY:-2}" --threads 4 --access-logfile - ;;
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
