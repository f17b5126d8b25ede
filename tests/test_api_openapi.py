"""/v1/openapi.json matches what the server really sends; /v1/docs works with no CDN."""

import json
import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator

from generations import services
from generations.api.errors import ERRORS
from generations.models import Generation
from tests.api_support import MODEL, generate, render

ENDPOINTS = {
    ("post", "/v1/images/generate"),
    ("post", "/v1/images/batch"),
    ("get", "/v1/images/batch/{batch_id}"),
    ("get", "/v1/images/batch/{batch_id}/events"),
    ("post", "/v1/images/batch/{batch_id}/cancel"),
    ("get", "/v1/images/{task_id}/events"),
    ("get", "/v1/images"),
    ("get", "/v1/images/{task_id}"),
    ("post", "/v1/images/{task_id}/cancel"),
    ("get", "/v1/account/credits"),
    ("get", "/v1/models"),
}


@pytest.fixture
def openapi(anonymous) -> dict:
    response = anonymous.get("/openapi.json")  # public, like the docs page
    assert response.status_code == 200
    return response.json()


def check(doc: dict, method: str, path: str, response: httpx.Response) -> None:
    """The reply's status is documented for this operation, and its body and headers match the schema."""
    operation = doc["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method.upper()} {path} answered {response.status_code}, which is not documented"
    schema = documented["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": doc["components"]}).validate(response.json())
    for name, ref in documented.get("headers", {}).items():
        if name != "Idempotent-Replayed":
            assert name in response.headers, f"{name} documented but not sent"
            header = doc["components"]["headers"][ref["$ref"].rsplit("/", 1)[-1]] if "$ref" in ref else ref
            value = response.headers[name]
            if header["schema"]["type"] == "integer":
                assert re.fullmatch(r"\d+", value), (name, value)
            else:
                Draft202012Validator(header["schema"]).validate(value)


def test_the_document_is_openapi_3_with_every_endpoint_behind_bearer_auth(openapi):
    assert openapi["openapi"].startswith("3.")
    found = {(method, path) for path, ops in openapi["paths"].items() for method in ops}
    assert found == ENDPOINTS
    assert openapi["components"]["securitySchemes"] == {"BearerAuth": {"type": "http", "scheme": "bearer"}}
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            assert op["security"] == [{"BearerAuth": []}], (method, path)
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }
            assert "X-RateLimit-Reset" in op["responses"]["200"]["headers"]
            assert "Retry-After" in op["responses"]["429"]["headers"]


def test_the_description_lists_every_error_code_and_explains_the_reset_header(openapi):
    description = openapi["info"]["description"]
    for code in ERRORS:
        assert f"`{code}`" in description
    assert "Unix" in openapi["components"]["headers"]["X-RateLimit-Reset"]["description"]


def test_request_bodies_describe_the_documents_parameters(openapi):
    generate_body = openapi["components"]["schemas"]["GenerateRequest"]
    assert set(generate_body["required"]) == {"model", "prompt"}
    assert set(generate_body["properties"]) >= {
        "model",
        "prompt",
        "aspect_ratio",
        "deep_thinking",
        "style",
        "colors",
        "webhook_url",
        "metadata",
    }
    assert generate_body["properties"]["aspect_ratio"]["default"] == "1:1"
    assert generate_body["properties"]["prompt"]["maxLength"] == 1000
    assert openapi["components"]["schemas"]["BatchRequest"]["properties"]["generations"]["maxItems"] == 50
    op = openapi["paths"]["/v1/images/generate"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/GenerateRequest")
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op["parameters"])
    assert "`content_policy`" in op["responses"]["400"]["description"]


def test_every_real_reply_matches_the_document(openapi, account):
    acct, free = account(tier="pro", credits=100), account(tier="free", credits=100)
    doc = openapi
    check(doc, "get", "/v1/account/credits", acct.http.get("/account/credits"))
    check(doc, "get", "/v1/models", acct.http.get("/models"))

    done = generate(acct, metadata={"a": 1})
    check(doc, "post", "/v1/images/generate", done)
    waiting = generate(acct, model="broken")
    check(doc, "get", "/v1/images/{task_id}", acct.http.get(f"/images/{waiting.json()['task_id']}"))  # processing
    generate(free), generate(free)
    check(doc, "post", "/v1/images/generate", generate(free))  # 429: two in flight on the free tier
    render(done.json()["task_id"])
    render(waiting.json()["task_id"])
    check(doc, "get", "/v1/images/{task_id}", acct.http.get(f"/images/{done.json()['task_id']}"))  # completed
    check(doc, "get", "/v1/images/{task_id}", acct.http.get(f"/images/{waiting.json()['task_id']}"))  # failed
    check(doc, "get", "/v1/images/{task_id}", acct.http.get("/images/img_nope"))  # 404
    check(doc, "post", "/v1/images/{task_id}/cancel", acct.http.post(f"/images/{done.json()['task_id']}/cancel"))
    check(doc, "post", "/v1/images/generate", acct.http.post("/images/generate", json={"model": MODEL}))  # 400

    batch = acct.http.post("/images/batch", json={"generations": [{"model": MODEL, "prompt": "x"}] * 2})
    check(doc, "post", "/v1/images/batch", batch)
    check(doc, "get", "/v1/images/batch/{batch_id}", acct.http.get(f"/images/batch/{batch.json()['batch_id']}"))
    check(doc, "get", "/v1/images", acct.http.get("/images"))
    check(doc, "get", "/v1/images", acct.http.get("/images", params={"limit": 500}))  # 400
    check(doc, "get", "/v1/account/credits", acct.http.get("/account/credits", headers={"Authorization": "x"}))


def test_canceled_and_replayed_and_payment_replies_match_the_document(openapi, account):
    acct = account(tier="pro", credits=10)
    first = generate(acct)
    canceled = Generation.objects.get(public_id=first.json()["task_id"])
    services.cancel(user=canceled.user, generation=canceled)
    check(openapi, "get", "/v1/images/{task_id}", acct.http.get(f"/images/{first.json()['task_id']}"))
    check(openapi, "post", "/v1/images/generate", generate(acct))
    check(openapi, "post", "/v1/images/generate", generate(acct))  # 402: 3 credits left
    body = {"generations": [{"model": MODEL, "prompt": "x"}] * 51}
    check(openapi, "post", "/v1/images/batch", acct.http.post("/images/batch", json=body))  # 400


def test_docs_page_uses_only_local_assets(anonymous, live_server):
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs, page.text
    for ref in refs:
        url = urljoin(f"{live_server.url}/v1/docs", ref)
        assert urlsplit(url).netloc == urlsplit(live_server.url).netloc, f"{ref} is not served by Studio"
        assert anonymous.get(url).status_code == 200, url
    assert "swagger-ui-bundle.js" in page.text
    assert "/v1/openapi.json" in page.text


def test_the_schema_and_the_validation_agree_on_an_empty_model_and_the_idempotency_key(openapi):
    from generations.api.idempotency import InvalidKey, clean_key

    assert openapi["components"]["schemas"]["GenerateRequest"]["properties"]["model"]["minLength"] == 1
    operation = next(ops["post"] for path, ops in openapi["paths"].items() if path.endswith("/images/generate"))
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    schema = header["schema"]
    # The length and the characters are the key's as sent, spaces at its ends included (Schemathesis
    # found 256 characters with a space at one end accepted, and a tab at one end).
    edges = [" " + "x" * 255, "x" * 255 + " ", " " + "x" * 254, "\tkey", "key\t", "key\n"]
    for key in ["a", "order-42", " padded ", "x" * 255, "", "   ", "naïve", "tab\there", "x" * 256, *edges]:
        documented = schema["minLength"] <= len(key) <= schema["maxLength"] and bool(
            re.fullmatch(schema["pattern"], key)
        )
        try:
            accepted = bool(clean_key(key))
        except InvalidKey:
            accepted = False
        assert documented == accepted, key


def test_each_event_of_a_stream_matches_the_documented_event_and_its_data(openapi, account):
    """Schemathesis reads a text/event-stream schema as one event: name, id and JSON data (it had said `string`)."""
    acct = account(tier="pro", credits=100)
    done, failed = generate(acct), generate(acct, model="broken")
    batch = acct.http.post("/images/batch", json={"generations": [{"model": MODEL, "prompt": "x"}]}).json()
    for task_id in (done.json()["task_id"], failed.json()["task_id"], *batch["task_ids"]):
        render(task_id)
    streams = [
        ("/v1/images/{task_id}/events", f"/images/{done.json()['task_id']}/events", "completed"),
        ("/v1/images/{task_id}/events", f"/images/{failed.json()['task_id']}/events", "failed"),
        ("/v1/images/batch/{batch_id}/events", f"/images/batch/{batch['batch_id']}/events", "completed"),
    ]
    for path, url, name in streams:
        event_schema = openapi["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
        reply = acct.http.get(url)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        blocks = [block for block in reply.text.split("\n\n") if "data:" in block]
        assert len(blocks) == 1, reply.text  # finished already: only its terminal event
        event = dict(line.split(": ", 1) for line in blocks[0].splitlines() if not line.startswith(":"))
        assert event["event"] == name
        components = {"components": openapi["components"]}
        Draft202012Validator({**event_schema, **components}).validate(event)
        data = event_schema["properties"]["data"]
        assert data["contentMediaType"] == "application/json"
        Draft202012Validator({**data["contentSchema"], **components}).validate(json.loads(event["data"]))


def test_the_request_schema_and_the_validation_agree_on_nulls_webhook_urls_and_blank_prompts(openapi):
    """What Schemathesis sent and build_spec answered otherwise than GenerateRequest said."""
    from generations import specs

    schema = Draft202012Validator({"$ref": "#/components/schemas/GenerateRequest", "components": openapi["components"]})
    probes = {
        "aspect_ratio": [None, "16:9", "2:1"],  # null is the default, as an omitted field
        "deep_thinking": [None, True, "yes"],
        "style": [None, "", "watercolor"],
        "webhook_url": [None, "", "https://example.com/hook", "HTTP://example.com", "ftp://example.com", "example.com"],
        "prompt": ["a cat", " ", "\n\t"],
    }
    for name, values in probes.items():
        for value in values:
            body = {"model": MODEL, "prompt": "A red barn at dawn", name: value}
            try:
                specs.build_spec(body, require_model=True)
                accepted = True
            except specs.SpecError:
                accepted = False
            assert schema.is_valid(body) == accepted, (name, value, accepted)


def test_a_submits_429_declares_the_concurrency_headers_and_only_a_submits(openapi):
    def headers(path: str, method: str) -> set[str]:
        return set(openapi["paths"][path][method]["responses"]["429"].get("headers", {}))

    for path in ("/v1/images/generate", "/v1/images/batch"):
        assert {"X-Concurrency-Limit", "X-Concurrency-In-Flight", "Retry-After"} <= headers(path, "post")
    assert "X-Concurrency-Limit" not in headers("/v1/images/{task_id}", "get")
    assert openapi["components"]["headers"]["X-Concurrency-In-Flight"]["schema"] == {"type": "integer"}
