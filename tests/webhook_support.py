"""Shared pieces of the webhook tests: the document's receiver code (verbatim) and helpers.

`VERIFY_WEBHOOK` and `FLASK_HANDLER` are copied character for character from the product
document (test_webhooks_events checks that they still are); tests exec them as written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug import Request as WerkzeugRequest

from accounts.models import User
from generations import services
from generations.models import Generation, WebhookAttempt, WebhookDelivery
from generations.worker import render as pipeline
from tests.helpers import spec

# shared/ sits beside the repository, here and in CI.
DOCUMENT = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_a5a7463e9e317927.txt"

VERIFY_WEBHOOK = """import hmac
import hashlib

def verify_webhook(payload, signature, secret):
    expected = hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, signature)"""

FLASK_HANDLER = """from flask import Flask, request, jsonify
import requests

app = Flask(__name__)

@app.route('/webhook/image-complete', methods=['POST'])
def handle_image_webhook():
    data = request.json

    if data['event'] == 'image.completed':
        task_id = data['task_id']
        image_url = data['image_url']
        metadata = data.get('metadata', {})

        # Download image
        img_response = requests.get(image_url)
        filename = f"images/{metadata.get('project', 'default')}/{task_id}.png"
        with open(filename, 'wb') as f:
            f.write(img_response.content)

        # Update your database
        update_generation_record(task_id, filename)

        print(f"Image saved: {filename}")

    elif data['event'] == 'image.failed':
        print(f"Generation failed: {data.get('error')}")

    return jsonify({'status': 'ok'}), 200"""


def document_verify_webhook() -> Callable[[str, str, str], bool]:
    """The document's `verify_webhook`, executed exactly as printed."""
    namespace: dict[str, Any] = {}
    exec(VERIFY_WEBHOOK, namespace)
    return namespace["verify_webhook"]


FAKE_MODELS = {"seedream-5.0-lite": {"engine": "fake", "options": {}}}


def use_fake_engine(settings: Any, *, allow_private: bool) -> None:
    """The fast fake engine; and whether loopback receivers are allowed (pytest-django `settings`)."""
    settings.STUDIO_MODELS = FAKE_MODELS
    settings.STUDIO_WEBHOOK_ALLOW_PRIVATE = allow_private


def finished_generation(user: User, **spec_fields: Any) -> Generation:
    """Submit and render one generation in process; its webhook delivery is recorded, not sent."""
    g = services.submit(user=user, spec=spec(**spec_fields)).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    return g


def deliver(delivery: WebhookDelivery) -> WebhookAttempt | None:
    """Run the delivery task in process, as a worker would (the attempt it made, if any)."""
    from generations import tasks

    tasks.deliver_webhook.apply(args=(delivery.pk,))
    delivery.refresh_from_db()
    return delivery.attempts.order_by("-number").first() if delivery.attempt_count else None


def make_due(delivery: WebhookDelivery) -> None:
    """Bring a scheduled retry's time forward to now (the test's stand-in for waiting)."""
    from django.utils import timezone

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery.refresh_from_db()


def body_of(request: WerkzeugRequest) -> dict[str, Any]:
    return json.loads(request.get_data())


__all__ = [
    "DOCUMENT",
    "FAKE_MODELS",
    "FLASK_HANDLER",
    "VERIFY_WEBHOOK",
    "body_of",
    "deliver",
    "document_verify_webhook",
    "finished_generation",
    "make_due",
    "use_fake_engine",
]
