"""`manage.py createapikey --user NAME [--name LABEL]` prints only a working key."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, hash_key
from tests.conftest import ROOT


def test_prints_only_the_key_which_is_stored_as_a_hash_with_a_prefix(make_user, client):
    user = make_user("dana", tier="starter", credits=1050)
    out = StringIO()
    call_command("createapikey", "--user", "dana", "--name", "CI deploys", stdout=out)
    raw = out.getvalue().strip()
    assert out.getvalue() == raw + "\n" and raw.startswith("sk_") and " " not in raw
    key = ApiKey.objects.get(user=user)
    assert key.name == "CI deploys"
    assert key.key_hash == hash_key(raw) and raw not in (key.key_hash, key.prefix)
    assert raw.startswith(key.prefix) and len(key.prefix) < len(raw) // 2

    response = client.get("/v1/account/credits", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert (response.json()["credits_remaining"], response.json()["tier"]) == (1050, "starter")


def test_each_run_makes_a_new_key_with_a_default_name(make_user):
    make_user("dana")
    first, second = StringIO(), StringIO()
    call_command("createapikey", "--user", "dana", stdout=first)
    call_command("createapikey", "--user", "dana", stdout=second)
    assert first.getvalue() != second.getvalue()
    assert list(ApiKey.objects.values_list("name", flat=True)) == ["Command line", "Command line"]


def test_an_unknown_user_is_an_error_and_creates_no_key(db):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("createapikey", "--user", "ghost")
    assert not ApiKey.objects.exists()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_as_a_process_stdout_is_just_the_key_for_scripts(make_user, worker_env):
    make_user("erin")
    result = subprocess.run(
        [sys.executable, "manage.py", "createapikey", "--user", "erin", "--name", "script"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert ApiKey.objects.get(name="script").key_hash == hash_key(line)
