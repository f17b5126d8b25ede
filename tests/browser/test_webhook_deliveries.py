"""The webhooks page in Chromium: a failed delivery, its attempts, Resend through a real worker, the secret."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from werkzeug import Request, Response

from generations.models import WebhookDelivery
from generations.webhooks import signing as webhook_signing
from tests.conftest import wait_for
from tests.webhook_support import FAKE_MODELS, finished_generation, use_fake_engine

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(httpserver):
    """A receiver that fails until told to recover."""
    state = {"up": False}

    def answer(request: Request) -> Response:
        return Response("ok" if state["up"] else "receiver exploded", status=200 if state["up"] else 500)

    httpserver.expect_request("/hook").respond_with_handler(answer)
    return state


def test_a_failed_delivery_shows_its_attempt_and_resend_delivers_it_with_the_same_id(
    live_server, start_worker, make_user, make_context, log_in, settings, httpserver, receiver, screenshot_dir
):
    use_fake_engine(settings, allow_private=True)
    settings.STUDIO_WEBHOOK_RETRY_SCHEDULE = [0]
    worker = start_worker(
        STUDIO_MODELS_JSON=json.dumps(FAKE_MODELS), STUDIO_WEBHOOK_ALLOW_PRIVATE="1", STUDIO_WEBHOOK_RETRY_SCHEDULE="0"
    )
    user = make_user("hooked")
    g = finished_generation(user, webhook_url=httpserver.url_for("/hook"), metadata={"project": "launch"})
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(generation=g, status="failed").first(),
        timeout=60,
        message=f"the first attempt to fail; worker log:\n{worker.log()}",
    )

    context = make_context()
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/settings/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    row = page.locator(f"#delivery-{delivery.public_id}")
    expect(row.locator(".delivery-status")).to_have_text("Failed")
    row.locator("summary").first.click()
    expect(row.locator(".attempt")).to_have_count(1)
    expect(row.locator(".attempt-status")).to_have_text("500")
    expect(row.locator(".attempt-excerpt")).to_have_text("receiver exploded")
    row.locator(".delivery-payload summary").click()
    expect(row.locator(".delivery-payload pre")).to_contain_text('"project": "launch"')
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "webhooks-desktop.png"), full_page=True)

    receiver["up"] = True
    row.get_by_role("button", name="Resend").click()
    row = page.locator(f"#delivery-{delivery.public_id}")
    expect(row.locator(".delivery-status")).to_have_text("Succeeded", timeout=30_000)
    expect(row.locator(".attempt")).to_have_count(2)
    expect(row).to_have_attribute("open", "")
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log]
    assert ids == [delivery.public_id, delivery.public_id]

    phone = make_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, user)
    mobile = phone.new_page()
    mobile.goto(f"{live_server.url}/settings/webhooks")
    mobile.locator(f"#delivery-{delivery.public_id} summary").first.click()
    expect(mobile.locator(f"#delivery-{delivery.public_id} .attempt")).to_have_count(2)
    mobile.evaluate("window.scrollTo(0, 0)")
    mobile.screenshot(path=str(screenshot_dir / "webhooks-deliveries-phone.png"), full_page=True)
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"

    # Filters swap the list and keep the address shareable.
    page.get_by_role("link", name=re.compile(r"^Failed")).click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.get_by_text("No failed deliveries")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Succeeded")).click()
    expect(page.locator(f"#delivery-{delivery.public_id}")).to_be_visible()


def test_the_secret_reveals_copies_and_rotates_after_confirmation(
    live_server, make_user, make_context, log_in, screenshot_dir, settings
):
    user = make_user("secretive")
    old = webhook_signing.current_secret(user)
    context = make_context(permissions=["clipboard-read", "clipboard-write"])
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/settings/webhooks")
    field = page.locator("#webhook-secret-value")
    expect(field).to_have_attribute("type", "password")
    page.get_by_role("button", name="Reveal").click()
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_value(old)
    page.locator(".secret-field").get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == old

    page.get_by_role("link", name="Rotate secret…").click()
    dialog = page.get_by_role("dialog", name="Rotate the signing secret?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("New secret created.")).to_be_visible()
    expect(page.locator(".webhook-secret .badge")).to_contain_text("Previous secret signs until")
    new = webhook_signing.current_secret(user)
    assert new != old
    expect(page.locator("#webhook-secret-value")).to_have_value(new)

    phone = make_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, user)
    mobile = phone.new_page()
    mobile.goto(f"{live_server.url}/settings/webhooks")
    expect(mobile.locator("#webhook-secret-value")).to_be_visible()
    mobile.screenshot(path=str(screenshot_dir / "webhooks-secret-phone.png"), full_page=True)
    wide = mobile.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone: {wide}"
