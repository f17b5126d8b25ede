"""`embed_parameters` on /v1: false leaves the prompt out of the files; not a boolean is a 400."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generations import specs
from generations.models import Generation
from tests.api_support import MODEL, assert_error, generate, render


def test_the_rule_takes_a_boolean_or_leaves_it_to_the_account():
    base = {"model": specs.DEFAULT_MODEL, "prompt": "A barn"}
    assert specs.build_spec(base).embed_parameters is None
    assert specs.build_spec({**base, "embed_parameters": False}).embed_parameters is False
    assert specs.build_spec({**base, "embed_parameters": True}).embed_parameters is True
    for bad in ("false", 0, 1, [], {}):
        with pytest.raises(specs.SpecError) as refused:
            specs.build_spec({**base, "embed_parameters": bad})
        assert (refused.value.code, refused.value.field) == ("invalid_request", "embed_parameters")


def test_false_keeps_the_prompt_out_of_the_stored_files(account):
    acct = account()
    response = generate(acct, prompt="A red barn owned by Marguerite Okonkwo", embed_parameters=False)
    assert response.status_code == 200, response.text
    g = render(response.json()["task_id"])
    assert g.status == "completed" and g.embed_parameters is False
    for name in (g.image_png, g.image_webp, g.thumbnail):
        with default_storage.open(name, "rb") as f:
            assert b"Okonkwo" not in f.read()
    assert acct.http.get(f"/images/{g.public_id}").json()["status"] == "completed"


def test_omitted_it_follows_the_accounts_setting(account):
    acct = account()
    acct.user.embed_parameters = False
    acct.user.save(update_fields=["embed_parameters"])
    g = render(generate(acct).json()["task_id"])
    assert g.embed_parameters is False
    assert "parameters" not in Image.open(default_storage.open(g.image_png)).info

    g = render(generate(acct, embed_parameters=True).json()["task_id"])
    assert Image.open(default_storage.open(g.image_png)).info["parameters"].startswith("A red barn at dawn")


@pytest.mark.parametrize("bad", ["no", 0, [False]])
def test_not_a_boolean_is_400_in_the_envelope_and_charges_nothing(account, bad):
    acct = account(credits=100)
    message = assert_error(generate(acct, embed_parameters=bad), 400, "invalid_request")
    assert message == "embed_parameters must be true or false."
    assert not Generation.objects.exists()
    assert acct.refresh().credits == 100


def test_each_batch_item_has_its_own(account):
    acct = account()
    body = {
        "generations": [
            {"model": MODEL, "prompt": "Quiet one", "embed_parameters": False},
            {"model": MODEL, "prompt": "Loud one"},
        ]
    }
    response = acct.http.post("/images/batch", json=body)
    assert response.status_code == 200, response.text
    flags = dict(Generation.objects.values_list("prompt", "embed_parameters"))
    assert flags == {"Quiet one": False, "Loud one": True}

    body["generations"][1]["embed_parameters"] = "yes"
    assert_error(acct.http.post("/images/batch", json=body), 400, "invalid_request")
    assert Generation.objects.count() == 2


def test_the_openapi_document_describes_it(client):
    schemas = client.get("/v1/openapi.json").json()["components"]["schemas"]
    field = schemas["GenerateRequest"]["properties"]["embed_parameters"]
    assert {"type": "boolean"} in field["anyOf"]
    assert "Content Credentials" in field["description"]
