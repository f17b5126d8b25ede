"""Production settings from the environment: `DJANGO_DEBUG=0` demands a real key and explicit
hosts and turns HTTPS on; with no variables at all the studio makes and keeps its own key.

Each start is a real `manage.py` (or settings import) in a subprocess, on `studio.settings`
with none of the test suite's variables, as an operator's shell or a container would run it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from studio import production

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PUBLIC_DEFAULT = "dev-insecure-change-me-" + "x" * 32


def documented_production_env() -> dict[str, str]:
    """The env file in the README's "Production" section, with a freshly made key for its placeholder."""
    section = README.read_text().split("\n## Production\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's Production section starts with the env file of production variables"
    variables = dict(line.split("=", 1) for line in block.group(1).splitlines() if re.match(r"[A-Z_]+=", line))
    assert variables["DJANGO_DEBUG"] == "0" and "DJANGO_SECRET_KEY" in variables
    return {**variables, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}


def start(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run `args` (after the interpreter) with only `variables` set of Django's and Studio's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STUDIO_"))}
    env.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_VAR_DIR=str(tmp_path / "var"), **variables)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def read_settings(tmp_path: Path, *names: str, **variables: str) -> dict[str, object]:
    script = (
        "import json, sys, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}))"
    )
    result = start(tmp_path, "-c", script, *names, **variables)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_the_documented_production_variables(tmp_path):
    result = start(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **documented_production_env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_production_turns_https_on_behind_the_documented_proxy(tmp_path):
    values = read_settings(
        tmp_path,
        "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "ALLOWED_HOSTS",
        **documented_production_env(),
    )  # fmt: skip
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$"],
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://studio.example.com"],
        "ALLOWED_HOSTS": ["studio.example.com"],
    }
    assert not (tmp_path / "var" / "secret-key").exists(), "production never makes a key of its own"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_DEBUG=0 (production) needs DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": PUBLIC_DEFAULT}, "DJANGO_SECRET_KEY is a development key published with the source"),
        ({"DJANGO_SECRET_KEY": "a" * 20 + "bcdefg"}, "DJANGO_SECRET_KEY is too weak (26 characters"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_DEBUG=0 (production) needs DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS=* accepts any Host header"),
    ],
    ids=["no-key", "public-default-key", "short-key", "no-hosts", "every-host"],
)
def test_production_refuses_to_start_without_a_real_key_and_explicit_hosts(tmp_path, change, message):
    variables = {k: v for k, v in {**documented_production_env(), **change}.items() if v is not None}
    result = start(tmp_path, "manage.py", "check", **variables)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_with_no_variables_the_studio_makes_a_private_key_once_and_keeps_it(tmp_path):
    first = start(tmp_path, "manage.py", "check")
    assert first.returncode == 0, first.stderr[-2000:]
    key_file = tmp_path / "var" / "secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= production.MIN_KEY_LENGTH and key != PUBLIC_DEFAULT

    values = read_settings(tmp_path, "SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE")
    assert values == {"SECRET_KEY": key, "DEBUG": False, "SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": False}
    assert key_file.read_text().strip() == key, "the next start reuses the key"


def test_the_public_default_key_is_refused_even_without_production(tmp_path):
    result = start(tmp_path, "manage.py", "check", DJANGO_SECRET_KEY=PUBLIC_DEFAULT)
    assert result.returncode != 0
    assert "published with the source code" in result.stderr


def test_only_a_false_django_debug_means_production():
    assert [production.requested(v) for v in ("0", "false", "off", " no ")] == [True] * 4
    assert [production.requested(v) for v in ("", "1", "true", "yes")] == [False] * 4


def test_the_proxy_header_and_origins_are_read_as_operators_write_them():
    assert production.proxy_ssl_header("X-Forwarded-Proto") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert production.proxy_ssl_header("HTTP_X_FORWARDED_PROTO") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert production.proxy_ssl_header("") is None
    assert production.origin("https://studio.example.com:8443/base/") == ["https://studio.example.com:8443"]
    assert production.origin("") == []


@pytest.mark.django_db
def test_the_ssl_redirect_spares_healthz_for_load_balancer_probes():
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        page = client.get(reverse("accounts:login"))
        assert page.status_code == 301 and page["Location"] == f"https://testserver{reverse('accounts:login')}"
        probe = client.get("/healthz")
        assert probe.status_code in (200, 503), "answered over plain http, not redirected"
