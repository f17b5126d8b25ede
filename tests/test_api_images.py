"""Cancel, account credits, models, and that no account ever sees another's work."""

import pytest

from accounts import ledger
from generations.models import Generation
from tests.api_support import FAKE_MODELS, MODEL, assert_error, generate, render
from tests.helpers import studio_file_links


def test_credits_answers_the_documents_fields_and_the_tiers_limits(account):
    acct = account(tier="starter", credits=1050)
    response = acct.http.get("/account/credits")
    assert response.status_code == 200
    body = response.json()
    assert (body["credits_remaining"], body["tier"]) == (1050, "starter")
    assert body["limits"] == {
        "requests_per_minute": 30,
        "concurrent": 5,
        "batch_size": 20,
        "max_batches_in_progress": 5,
    }


def test_cancel_refunds_an_unfinished_image_and_reports_the_balance(account):
    acct = account(credits=100)
    task_id = generate(acct).json()["task_id"]
    response = acct.http.post(f"/images/{task_id}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["task_id"], body["status"], body["error_code"]) == (task_id, "canceled", "canceled")
    assert body["credits_refunded"] == 7
    assert body["credits_remaining"] == 100 == ledger.balance(acct.user)
    assert acct.http.get(f"/images/{task_id}").json()["status"] == "canceled"


def test_cancel_of_a_finished_image_is_409_not_cancelable_and_refunds_nothing(account):
    acct = account(credits=100)
    task_id = generate(acct).json()["task_id"]
    render(task_id)
    assert "completed" in assert_error(acct.http.post(f"/images/{task_id}/cancel"), 409, "not_cancelable")
    assert ledger.balance(acct.user) == 93


def test_models_lists_each_public_id_with_the_engine_that_serves_it(account):
    acct = account()
    body = acct.http.get("/models").json()
    assert [m["id"] for m in body["data"]] == list(FAKE_MODELS)
    first = body["data"][0]
    assert first == {
        "id": MODEL,
        "engine": "fake",
        "label": "Fake engine (tests)",
        "description": "A flat colour, for tests.",
        "neural": False,
        "price_credits": 7,
        "default": True,
        "upstream_model": None,
        "deep_thinking": "",
        "exact_text": False,
    }


def test_models_describes_the_default_engine_truthfully(account, settings):
    pytest.importorskip("generations.engines.typeset.engine", reason="the typeset engine is another issue's work")
    settings.STUDIO_MODELS = {MODEL: {"engine": "typeset", "options": {}}}
    acct = account()
    (entry,) = acct.http.get("/models").json()["data"]
    assert entry["engine"] == "typeset" and entry["neural"] is False
    assert "offline" in (entry["label"] + entry["description"]).lower()


def test_models_needs_a_key(anonymous):
    assert_error(anonymous.get("/models"), 401, "invalid_api_key")


def test_two_accounts_never_see_each_others_images_or_batches(account):
    alice, bob = account(credits=100), account(credits=100)
    image = generate(alice).json()["task_id"]
    batch = alice.http.post("/images/batch", json={"generations": [{"model": MODEL, "prompt": "x"}]}).json()
    render(image)

    assert alice.http.get(f"/images/{image}").status_code == 200
    # 404, not 403: an id that exists is not confirmed to someone else.
    assert_error(bob.http.get(f"/images/{image}"), 404, "not_found")
    assert_error(bob.http.get(f"/images/batch/{batch['batch_id']}"), 404, "not_found")
    assert_error(bob.http.get(f"/images/{batch['task_ids'][0]}"), 404, "not_found")
    assert_error(bob.http.post(f"/images/{batch['task_ids'][0]}/cancel"), 404, "not_found")
    assert bob.http.get("/images").json()["data"] == []
    assert Generation.objects.get(public_id=batch["task_ids"][0]).status == "processing"
    assert ledger.balance(alice.user) == 86 and ledger.balance(bob.user) == 100


@studio_file_links
def test_absolute_links_use_the_public_url_when_one_is_configured(account, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    acct = account()
    task_id = generate(acct).json()["task_id"]
    render(task_id)
    assert acct.http.get(f"/images/{task_id}").json()["image_url"].startswith("https://studio.example.com/files/")
