"""Screenshots of the teams pages at desktop and phone width, in light and dark schemes.

They land in test-output/screenshots/teams-<page>-<desktop|phone>-<light|dark>.png for a
person to look at; the test checks that each page rendered without a browser error (the
conftest's watcher) and without sideways scrolling.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts import teams
from accounts.models import Role, User
from tests.studio_factories import make_team

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def shoot(page, folder: Path, name: str, size: str, scheme: str, *, full_page: bool = True) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar is drawn where the page was scrolled to
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size} width"
    page.screenshot(path=str(folder / f"teams-{name}-{size}-{scheme}.png"), full_page=full_page)


def forgive_status(errors: list[str], path: str, status: int) -> None:
    """Drop Chromium's "Failed to load resource" line for a page that answers `status` on purpose."""
    expected = [e for e in errors if path in e and f"status of {status}" in e]
    assert expected, f"expected a {status} for {path}"
    for e in expected:
        errors.remove(e)


def with_email(user: User, email: str) -> User:
    User.objects.filter(pk=user.pk).update(email=email)
    user.refresh_from_db()
    return user


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots_of_the_teams_pages(
    live_server, make_context, log_in, make_user, screenshot_dir, browser_errors, size, scheme
):
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    base = live_server.url

    olivia = with_email(make_user("olivia"), "olivia@northwind-studio.example")
    with_email(make_user("eddie_the_designer"), "eddie.designer@northwind-studio.example")
    vera = with_email(make_user("vera"), "vera@client-agency.example")
    with_email(make_user("newbie"), "newbie@example.com")
    crew = make_team(olivia, "Poster Crew", eddie_the_designer=Role.EDITOR, vera=Role.VIEWER)
    make_team(make_user("marta"), "Autumn Campaign 2026", olivia=Role.EDITOR)
    teams.create_link(by=olivia, team=crew, role=Role.VIEWER)
    teams.invite_user(by=olivia, team=crew, identifier="newbie", role=Role.EDITOR)
    launch = make_team(make_user("lena"), "Launch Day")
    teams.invite_user(by=User.objects.get(username="lena"), team=launch, identifier="olivia", role=Role.EDITOR)

    log_in(context, make_user("loner"))
    page.goto(f"{base}/teams")
    shoot(page, screenshot_dir, "list-empty", size, scheme)

    context.clear_cookies()
    log_in(context, olivia)
    page.goto(f"{base}/teams")
    page.locator(".team-invitations").wait_for()
    shoot(page, screenshot_dir, "list", size, scheme)

    page.goto(f"{base}/teams/{crew.public_id}")
    page.locator(".link-item").wait_for()
    shoot(page, screenshot_dir, "owner", size, scheme)
    page.click("#links button:has-text('Create link')")  # the new link's address is shown this once
    page.locator(".link-item-new").wait_for()
    shoot(page, screenshot_dir, "owner-new-link", size, scheme)
    page.locator(f"#role-{crew.memberships.get(user__username='olivia').pk}").select_option("viewer")
    page.locator(f"#member-{crew.memberships.get(user__username='olivia').pk} button:has-text('Save')").click()
    page.locator(".team-callout").wait_for()
    forgive_status(browser_errors, "/role", 422)  # the last owner can't step down: the page says why
    shoot(page, screenshot_dir, "owner-error", size, scheme)
    page.locator("#members tbody tr").nth(1).locator("text=Remove…").click()
    page.locator("dialog[open]").wait_for()
    shoot(page, screenshot_dir, "remove-dialog", size, scheme, full_page=False)
    page.keyboard.press("Escape")

    page.locator("summary.ws-current").click()
    page.locator(".ws-menu").wait_for()
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")  # the chevron's turn
    shoot(page, screenshot_dir, "switcher", size, scheme, full_page=False)
    page.locator("summary.ws-current").click()

    context.clear_cookies()
    log_in(context, vera)
    page.goto(f"{base}/teams/{crew.public_id}")
    shoot(page, screenshot_dir, "viewer", size, scheme)

    link = teams.create_link(by=olivia, team=crew, role=Role.EDITOR)
    context.clear_cookies()
    log_in(context, make_user("guest"))
    page.goto(f"{base}/invites/{link.token}")
    shoot(page, screenshot_dir, "join", size, scheme)
    page.goto(f"{base}/invites/not-a-valid-token")
    shoot(page, screenshot_dir, "join-invalid", size, scheme)
    forgive_status(browser_errors, "/invites/not-a-valid-token", 404)
    page.goto(f"{base}/invites/{link.token}")
    page.click("button:has-text('Join Poster Crew')")
    page.wait_for_url(f"{base}/")
    assert crew.memberships.filter(user__username="guest", role=Role.EDITOR).exists()
