"""The many-machine recipes say what the README promises: 2+ web nodes, solo render workers,
a notifier, exactly one beat, one migration step, and no secret or open host baked in.

Docker cannot pull images here, so these read the recipes; `tests/test_many_machines.py`
runs the same topology for real (two web processes, three render workers, beat) on
PostgreSQL and Redis.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from studio.run import commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
STUDIO = {name: s for name, s in SERVICES.items() if s.get("image") == "studio:latest"}


def _role(service: dict) -> str:
    return service["command"][0]


def test_compose_runs_two_web_nodes_behind_a_proxy_and_exactly_one_beat():
    web = [name for name, s in STUDIO.items() if _role(s) == "web"]
    assert len(web) >= 2
    assert [name for name, s in STUDIO.items() if _role(s) == "beat"] == ["beat"]
    assert all(f"server {name}:8000" in COMPOSE["configs"]["nginx"]["content"] for name in web)


def test_schema_migrates_once_before_any_node_starts():
    assert _role(SERVICES["migrate"]) == "migrate"
    for name, service in STUDIO.items():
        if name == "migrate":
            continue
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        if _role(service) == "web":
            assert service["environment"]["STUDIO_MIGRATE_ON_START"] == "0", name


def test_render_workers_consume_render_only_and_the_notifier_the_rest():
    renderers = {name: s for name, s in STUDIO.items() if s["environment"].get("QUEUES") == "render"}
    assert {"render", "render-gpu0", "render-gpu1"} <= set(renderers)
    assert SERVICES["render"]["deploy"]["replicas"] >= 2
    assert SERVICES["render-gpu0"]["environment"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert SERVICES["render-gpu1"]["environment"]["CUDA_VISIBLE_DEVICES"] == "1"
    assert SERVICES["notifier"]["environment"]["QUEUES"] == "webhooks,default"
    entry = (ROOT / "Dockerfile").read_text()
    assert re.search(r"render\) exec celery -A studio worker --queues render --pool solo", entry)


def test_every_node_shares_one_configuration_with_no_secret_or_open_host_in_it():
    for name, service in STUDIO.items():
        env = service["environment"]
        assert env["DJANGO_DEBUG"] == "0", name
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), name
        assert env["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS:?"), name
        assert env["DATABASE_URL"].startswith("postgres://") and env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["STUDIO_STORAGE"] == "s3", name
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "DJANGO_SECRET_KEY=" not in dockerfile and "ALLOWED_HOSTS=*" not in dockerfile


def test_the_procfile_and_make_run_have_the_same_roles():
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(procfile) == {"web", "render", "notifier", "beat"}
    assert "--pool solo" in procfile["render"] and "--queues render" in procfile["render"]
    roles = commands()
    assert {"web", "notifier", "sweeper"} <= set(roles) and any(r.startswith("render-") for r in roles)
    assert all("--pool" in roles[r] and "solo" in roles[r] for r in roles if r.startswith("render-"))
