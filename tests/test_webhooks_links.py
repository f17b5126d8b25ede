"""Webhook links point where the generation was submitted: the submitting request's host."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from generations.models import Batch, Generation, WebhookDelivery
from generations.worker import render as pipeline
from tests.helpers import studio_file_links
from tests.webhook_support import use_fake_engine

pytestmark = studio_file_links

HOST = "studio.example:8123"
HOOK = "https://your-app.com/hook"
MODEL = "seedream-5.0-lite"


@pytest.fixture(autouse=True)
def _setup(db, settings):
    use_fake_engine(settings, allow_private=True)
    settings.STUDIO_PUBLIC_URL = ""
    settings.ALLOWED_HOSTS = ["studio.example", "testserver"]
    cache.clear()  # no rate-limit counters left over
    yield
    cache.clear()


def _post_v1(user: User, path: str, body: dict, host: str = HOST, **extra: str) -> dict:
    """POST to /v1 through Django's test client, as sent to `host` (the Host header)."""
    _, raw = account_services.create_api_key(user=user, name="tests")
    response = Client().post(
        f"/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_HOST=host,
        **extra,
    )
    assert response.status_code == 200, response.content
    return response.json()


def _render_all(generations) -> None:
    for g in generations:
        pipeline.render(g.pk)


def _image_payload(task_id: str) -> dict:
    return json.loads(WebhookDelivery.objects.get(generation__public_id=task_id, event="image.completed").body)


def test_a_v1_image_webhook_links_to_the_host_that_submitted_it(make_user):
    accepted = _post_v1(make_user(), "/images/generate", {"model": MODEL, "prompt": "A red barn", "webhook_url": HOOK})
    g = Generation.objects.get(public_id=accepted["task_id"])
    assert g.public_base_url == f"http://{HOST}"
    _render_all([g])
    payload = _image_payload(g.public_id)
    assert payload["image_url"].startswith(f"http://{HOST}/files/") and payload["image_url"].endswith(".png")
    assert payload["image_url_webp"].startswith(f"http://{HOST}/files/")


def test_a_proxys_https_scheme_is_recorded_where_the_settings_trust_it(make_user, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    accepted = _post_v1(
        make_user(), "/images/generate", {"model": MODEL, "prompt": "A red barn"}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert Generation.objects.get(public_id=accepted["task_id"]).public_base_url == f"https://{HOST}"


def test_studio_public_url_overrides_the_submitting_host(make_user, settings):
    settings.STUDIO_PUBLIC_URL = "https://public.example"
    accepted = _post_v1(make_user(), "/images/generate", {"model": MODEL, "prompt": "A red barn", "webhook_url": HOOK})
    g = Generation.objects.get(public_id=accepted["task_id"])
    _render_all([g])
    assert _image_payload(g.public_id)["image_url"].startswith("https://public.example/files/")


def test_studio_public_url_set_after_submitting_still_wins(make_user, settings):
    accepted = _post_v1(make_user(), "/images/generate", {"model": MODEL, "prompt": "A red barn", "webhook_url": HOOK})
    settings.STUDIO_PUBLIC_URL = "https://public.example"
    _render_all(Generation.objects.filter(public_id=accepted["task_id"]))
    assert _image_payload(accepted["task_id"])["image_url"].startswith("https://public.example/files/")


def test_a_v1_batch_and_its_items_link_to_the_host_that_submitted_it(make_user):
    body = {
        "generations": [{"model": MODEL, "prompt": "one"}, {"model": MODEL, "prompt": "two", "webhook_url": HOOK}],
        "webhook_url": HOOK,
    }
    accepted = _post_v1(make_user(), "/images/batch", body)
    batch = Batch.objects.get(public_id=accepted["batch_id"])
    assert batch.public_base_url == f"http://{HOST}"
    _render_all(batch.generations.all())
    deliveries = WebhookDelivery.objects.all()
    assert sorted(d.event for d in deliveries) == ["batch.completed", "image.completed", "image.completed"]
    batch_body = json.loads(deliveries.get(event="batch.completed").body)
    assert [r["image_url"].startswith(f"http://{HOST}/files/") for r in batch_body["results"]] == [True, True]
    for d in deliveries.filter(event="image.completed"):
        assert json.loads(d.body)["image_url"].startswith(f"http://{HOST}/files/")


@pytest.mark.parametrize("count", ["1", "2"])
def test_the_studio_form_records_the_host_it_was_posted_to(make_user, count):
    user = make_user()
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    form = {"prompt": "A lighthouse", "aspect_ratio": "1:1", "style": "watercolor", "seed_mode": "random"}
    response = client.post("/generate", {**form, "count": count})
    assert response.status_code in (200, 302), response.content
    rows = Generation.objects.filter(user=user)
    assert rows.count() == int(count)
    assert {g.public_base_url for g in rows} == {f"http://{HOST}"}
    if count != "1":
        assert Batch.objects.get(user=user).public_base_url == f"http://{HOST}"


def test_the_generate_command_records_nothing_and_webhooks_fall_back(make_user, settings):
    make_user("dana")
    call_command("generate", "A red barn", "--user", "dana")
    g = Generation.objects.get(user__username="dana")
    assert g.public_base_url == ""
    g.webhook_url = HOOK
    g.save(update_fields=["webhook_url"])
    _render_all([g])
    assert _image_payload(g.public_id)["image_url"].startswith(settings.STUDIO_WEBHOOK_LINK_BASE_URL + "/files/")


def test_a_host_too_long_to_record_is_dropped_rather_than_cut(make_user, settings):
    long_host = ".".join(c * 60 for c in "abcd") + ".example"  # 251 characters
    settings.ALLOWED_HOSTS = [long_host]
    accepted = _post_v1(make_user(), "/images/generate", {"model": MODEL, "prompt": "A red barn"}, host=long_host)
    assert Generation.objects.get(public_id=accepted["task_id"]).public_base_url == ""
