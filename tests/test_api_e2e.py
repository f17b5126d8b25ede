"""End to end with a real `celery worker`: submit over HTTP, poll, download, links expire."""

import io
import json

import httpx
import pytest
from django.conf import settings
from PIL import Image

from accounts import ledger
from generations import storage
from tests.api_support import FAKE_MODELS, MODEL, assert_error, poll_until_finished
from tests.conftest import wait_for
from tests.helpers import ON_S3

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_submit_poll_download_both_images_and_the_links_expire(account, start_worker, monkeypatch):
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(FAKE_MODELS))
    acct = account(credits=100)
    submitted = acct.http.post(
        "/images/generate", json={"model": MODEL, "prompt": "Poster with text 'OPEN LATE'", "aspect_ratio": "9:16"}
    )
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]

    result = poll_until_finished(acct, task_id, worker)
    assert result["status"] == "completed", result
    assert (result["width"], result["height"]) == (768, 1360)

    with httpx.Client(timeout=30) as anyone:  # a signed link needs no key
        png = anyone.get(result["image_url"])
        webp = anyone.get(result["image_url_webp"])
        assert png.status_code == webp.status_code == 200
        for response, kind in ((png, "PNG"), (webp, "WEBP")):
            with Image.open(io.BytesIO(response.content)) as image:
                image.verify()
            with Image.open(io.BytesIO(response.content)) as image:
                assert (image.format, image.size) == (kind, (result["width"], result["height"]))
        assert ledger.balance(acct.user) == 93 == ledger.ledger_total(acct.user)

        if ON_S3:
            return  # the store checks its own SigV4 links' X-Amz-Expires (tests/test_s3_storage.py)
        # A day later (the live server runs in this process, so its clock moves too).
        real_now = storage.now()
        lives = settings.STUDIO_LINK_TTL_SECONDS + settings.STUDIO_LINK_REUSE_SECONDS  # see tests/test_files.py
        monkeypatch.setattr(storage, "now", lambda: real_now + lives + 1)
        for url in (result["image_url"], result["image_url_webp"], result["thumbnail_url"]):
            assert_error(anyone.get(url), 410, "link_expired")

        # Asking the API again gives fresh links that work.
        fresh = acct.http.get(f"/images/{task_id}").json()
        assert fresh["image_url"] != result["image_url"]
        assert anyone.get(fresh["image_url"]).status_code == 200


def test_a_batch_with_a_failing_item_finishes_and_says_how_many_of_each(account, start_worker):
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(FAKE_MODELS))
    acct = account(credits=100)
    items = [{"model": MODEL, "prompt": "ok 1"}, {"model": "broken", "prompt": "bad"}, {"model": MODEL, "prompt": "ok"}]
    batch_id = acct.http.post("/images/batch", json={"generations": items}).json()["batch_id"]

    def finished():
        body = acct.http.get(f"/images/batch/{batch_id}").json()
        return body if body["status"] == "completed" else None

    body = wait_for(finished, timeout=90, interval=0.2, message=f"the batch; worker log:\n{worker.log()}")
    assert body["counts"] == {"completed": 2, "failed": 1, "canceled": 0, "processing": 0}
    assert [r["status"] for r in body["results"]] == ["completed", "failed", "completed"]
    assert body["results"][1]["error_code"] == "generation_failed"
    assert ledger.balance(acct.user) == 86 == ledger.ledger_total(acct.user)
