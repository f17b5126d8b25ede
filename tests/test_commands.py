"""The management commands people and scripts use."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts import ledger
from accounts.models import User
from generations.models import Generation
from tests.conftest import ROOT


def test_createuser_creates_a_user_like_signup_and_sets_the_balance_through_the_ledger(db, capsys):
    call_command("createuser", "dana", "--password", "s3cret-pass!", "--tier", "pro", "--credits", "1000")
    user = User.objects.get(username="dana")
    assert user.tier == "pro" and user.check_password("s3cret-pass!")
    assert ledger.balance(user) == 1000 == ledger.ledger_total(user)
    assert list(user.ledger.order_by("id").values_list("kind", "amount")) == [("signup", 50), ("grant", 950)]
    assert "1000 credits" in capsys.readouterr().out


def test_createuser_refuses_an_existing_name(make_user):
    make_user("dana")
    with pytest.raises(CommandError, match="exists"):
        call_command("createuser", "dana", "--password", "x-pass-word")


def test_grantcredits_adds_through_the_ledger_and_sets_the_tier(make_user):
    user = make_user("eve")
    call_command("grantcredits", "eve", "70", "--tier", "starter")
    user.refresh_from_db()
    assert (user.tier, user.credits) == ("starter", 120)
    assert ledger.ledger_total(user) == 120


def test_grantcredits_cannot_take_a_balance_below_zero(make_user):
    user = make_user("eve")
    with pytest.raises(CommandError, match="balance is 50"):
        call_command("grantcredits", "eve", "-51")
    assert ledger.balance(user) == 50


@override_settings(STUDIO_MODELS={"seedream-5.0-lite": {"engine": "fake", "options": {}}})
def test_generate_goes_through_the_service_and_reports_the_task(make_user, capsys):
    user = make_user("fay")
    call_command("generate", "A red barn", "--user", "fay", "--aspect-ratio", "16:9", "--colors", "#ff0000,#00f")
    g = Generation.objects.get(user=user)
    assert (g.aspect_ratio, g.colors, g.status) == ("16:9", ["#ff0000", "#0000ff"], "processing")
    out = capsys.readouterr().out
    assert f"{g.public_id} processing" in out
    assert "credits remaining: 43" in out


def test_generate_reports_a_bad_field_and_creates_nothing(make_user):
    make_user("fay")
    with pytest.raises(CommandError, match="aspect_ratio: Aspect ratio '2:1' is not supported"):
        call_command("generate", "A red barn", "--user", "fay", "--aspect-ratio", "2:1")
    assert not Generation.objects.exists()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_generate_wait_shows_progress_then_the_task_status_and_png_path(make_user, start_worker, worker_env):
    make_user("gus")
    start_worker()
    result = subprocess.run(
        [sys.executable, "manage.py", "generate", "Poster 'HELLO'", "--user", "gus", "--wait", "--timeout", "60"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    g = Generation.objects.get()
    assert g.status == "completed"
    assert "100.0%" in result.stderr and "1/1" in result.stderr
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"{g.public_id} completed /") and line.endswith(".png")


def test_make_run_renders_and_delivers_webhooks_in_separate_workers():
    from studio.run import commands

    procs = commands()
    queues = {name: cmd[cmd.index("--queues") + 1] for name, cmd in procs.items() if "--queues" in cmd}
    # A slow webhook receiver must never take a render slot.
    assert queues == {"render-1": "render", "render-2": "render", "notifier": "webhooks,default"}
    assert {"web", "sweeper"} <= set(procs)
    # One process per render slot: a SIGKILLed slot cannot wedge a sibling's pool lock.
    assert all(procs[name][procs[name].index("--pool") + 1] == "solo" for name in ("render-1", "render-2"))


def test_contentcredentials_makes_the_development_certificate_on_first_start_and_says_so(tmp_path, capsys):
    folder = tmp_path / "c2pa"
    with override_settings(STUDIO_C2PA_DIR=folder, STUDIO_C2PA_CERT="", STUDIO_C2PA_KEY=""):
        call_command("contentcredentials")
    said = capsys.readouterr().out
    assert "DEVELOPMENT certificate" in said and "For development only" in said
    assert {p.name for p in folder.glob("*.pem")} == {"dev-ca.pem", "dev-cert.pem", "dev-key.pem"}


def test_contentcredentials_says_signing_is_off_when_it_is(capsys):
    with override_settings(STUDIO_C2PA=False):
        call_command("contentcredentials")
    assert "signing is off" in capsys.readouterr().out
