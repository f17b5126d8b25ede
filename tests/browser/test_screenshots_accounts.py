"""Screenshots of every account page at desktop and phone width, in light and dark schemes.

They land in test-output/screenshots/accounts-<page>-<desktop|phone>-<light|dark>.png for
a person to look at; the test checks that each page rendered without a browser error
(the conftest's watcher) and without sideways scrolling.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import ledger, services
from accounts.models import ApiKey, User
from generations.models import Generation
from tests.studio_factories import make_generation

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
PROMPTS = [
    'Jazz night poster, bold type "Blue Notes", navy and gold',
    "Isometric cosy bedroom with plants and a sleeping cat",
    "Minimal product shot of a ceramic mug on a pastel background",
    "Watercolor fox in a snowy birch forest, soft morning light",
    'Lighthouse on a cliff at dusk, travel poster that says "Open late"',
]


def shoot(page, folder: Path, name: str, size: str, scheme: str, *, full_page: bool = True) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar is drawn where the page was scrolled to
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size} width"
    page.screenshot(path=str(folder / f"accounts-{name}-{size}-{scheme}.png"), full_page=full_page)


def seed_account(user: User) -> None:
    """Keys in every state and a ledger with grants, charges, a refund and a deleted image."""
    used, _ = services.create_api_key(user=user, name="Production server")
    ApiKey.objects.filter(pk=used.pk).update(last_used_at=timezone.now() - timedelta(hours=3))
    services.create_api_key(user=user, name="CI pipeline")
    old, _ = services.create_api_key(user=user, name="Old laptop script")
    services.revoke_api_key(key=old)

    with transaction.atomic():
        ledger.grant(user=user, amount=500, note="Team onboarding bonus")
    generations = [make_generation(user, prompt=prompt, files=False) for prompt in PROMPTS]
    with transaction.atomic():
        for g in generations:
            ledger.charge(user=user, generations=[g])
        ledger.refund(generation=generations[1], note="Render failed (engine error): refunded")
    Generation.objects.filter(pk=generations[3].pk).delete()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_every_account_page(live_server, make_context, log_in, make_user, screenshot_dir, size, scheme):
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    base = live_server.url

    page.goto(f"{base}/accounts/login")
    shoot(page, screenshot_dir, "login", size, scheme)
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong-password")
    page.click("form.auth-form button[type=submit]")
    page.locator(".form-errors").wait_for()
    shoot(page, screenshot_dir, "login-error", size, scheme)

    page.goto(f"{base}/accounts/signup")
    shoot(page, screenshot_dir, "signup", size, scheme)
    make_user("taken")
    page.fill("input[name=username]", "taken")
    page.fill("input[name=email]", "not-an-email")
    page.fill("input[name=password1]", "12345")
    page.fill("input[name=password2]", "54321")
    page.click("form.auth-form button[type=submit]")
    page.locator("#id_username_error").wait_for()
    shoot(page, screenshot_dir, "signup-errors", size, scheme)

    page.goto(f"{base}/accounts/password/reset")
    shoot(page, screenshot_dir, "password-reset", size, scheme)
    forgetful = make_user("forgetful")
    User.objects.filter(pk=forgetful.pk).update(email="forgetful@example.com")
    page.fill("input[name=email]", "forgetful@example.com")
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/password/reset/sent")
    shoot(page, screenshot_dir, "password-reset-sent", size, scheme)

    page.goto(f"{base}/accounts/password/reset/MQ/not-a-token")
    shoot(page, screenshot_dir, "password-reset-expired", size, scheme)
    forgetful.refresh_from_db()  # the token covers the email set above
    uid = urlsafe_base64_encode(force_bytes(forgetful.pk))
    page.goto(f"{base}/accounts/password/reset/{uid}/{default_token_generator.make_token(forgetful)}")
    page.locator("input[name=new_password1]").wait_for()
    shoot(page, screenshot_dir, "password-reset-confirm", size, scheme)
    page.fill("input[name=new_password1]", "Fresh-Start-2026")
    page.fill("input[name=new_password2]", "Fresh-Start-2026")
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/password/reset/done")
    shoot(page, screenshot_dir, "password-reset-complete", size, scheme)

    context.clear_cookies()
    log_in(context, make_user("newcomer"))
    page.goto(f"{base}/accounts/settings/keys")
    shoot(page, screenshot_dir, "keys-empty", size, scheme)

    dana = make_user("dana", tier="popular")
    seed_account(dana)
    context.clear_cookies()
    log_in(context, dana)
    page.goto(f"{base}/accounts/settings/keys")
    page.click("summary:has-text('Revoked keys')")
    shoot(page, screenshot_dir, "keys", size, scheme)
    page.fill("input[name=name]", "Staging server")
    page.click("button:has-text('Create key')")
    page.locator("#new-key-value").wait_for()
    shoot(page, screenshot_dir, "keys-created", size, scheme)
    page.locator(".keys-table tbody tr").nth(1).locator("text=Revoke…").click()
    page.locator("dialog[open]").wait_for()
    shoot(page, screenshot_dir, "keys-revoke-dialog", size, scheme, full_page=False)
    page.keyboard.press("Escape")

    production = ApiKey.objects.get(user=dana, name="Production server")
    page.goto(f"{base}/accounts/settings/keys/{production.pk}/revoke")
    shoot(page, screenshot_dir, "keys-revoke-confirm", size, scheme)

    page.goto(f"{base}/accounts/settings/credits")
    shoot(page, screenshot_dir, "credits", size, scheme)

    page.goto(f"{base}/accounts/password")
    shoot(page, screenshot_dir, "password-change", size, scheme)
    page.fill("input[name=old_password]", "wrong")
    page.fill("input[name=new_password1]", "abc")
    page.fill("input[name=new_password2]", "abd")
    page.click("button:has-text('Change password')")
    page.locator("#id_old_password_error").wait_for()
    shoot(page, screenshot_dir, "password-change-errors", size, scheme)
