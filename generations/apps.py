from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations"

    def ready(self) -> None:
        # The filesystem broker needs its folders before anything is enqueued, in the web
        # process as well as in the worker.
        for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)

        # Register the Celery tasks in every process (web, worker, commands), so
        # `worker.queue` finds them by name without importing what is above it.
        from generations import tasks  # noqa: F401
