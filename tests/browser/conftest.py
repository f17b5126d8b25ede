"""Browser tests: Playwright driving Debian's Chromium against a live server (and a real worker).

pytest-playwright's own browser download does not work here, so the launch arguments
point at /usr/bin/chromium (`make test` installs it with apt when it is missing).
Every page a test opens is watched: a console error or an uncaught page error fails
the test at teardown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told this is deliberate (it is: the test thread is
# the only user of its connection).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# A model catalog whose engine is slow enough for a person (and a test) to watch progress.
SLOW_STEP_SECONDS = 0.5


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does this)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def browser_errors() -> Iterator[list[str]]:
    """Console errors and uncaught errors of every page opened during the test; must stay empty."""
    errors: list[str] = []
    yield errors
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)


def watch(page: Any, errors: list[str]) -> None:
    """Record `page`'s console errors and uncaught exceptions into `errors`."""

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"console error on {page.url}: {message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error on {page.url}: {error}"))


@pytest.fixture
def new_context(new_context: Callable[..., Any], browser_errors: list[str]) -> Callable[..., Any]:
    """pytest-playwright's context factory, with every page of every context watched."""

    def make(**kwargs: Any) -> Any:
        context = new_context(**kwargs)
        context.on("page", lambda page: watch(page, browser_errors))
        return context

    return make


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "accept_downloads": True}


@pytest.fixture
def make_context(browser: Any, browser_context_args: dict, browser_errors: list[str]) -> Iterator[Callable[..., Any]]:
    """make_context(viewport=..., color_scheme=...): a watched context whose options override the defaults."""
    contexts: list[Any] = []

    def make(**kwargs: Any) -> Any:
        context = browser.new_context(**{**browser_context_args, **kwargs})
        context.on("page", lambda page: watch(page, browser_errors))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def log_in(live_server: Any) -> Callable[[Any, User], None]:
    """log_in(context, user): give the browser context a logged-in session cookie."""

    def do(context: Any, user: User) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    return do


@pytest.fixture
def slow_models() -> dict[str, dict[str, Any]]:
    """The catalog for a watchable render: the typeset engine when installed, else the test fake."""
    from importlib.util import find_spec

    engine = "typeset" if find_spec("generations.engines.typeset.engine") else "fake"
    return {"seedream-5.0-lite": {"engine": engine, "options": {"step_delay": SLOW_STEP_SECONDS}}}


@dataclass
class StudioServer:
    url: str
    worker: Any  # tests.conftest.WorkerProcess; its log() goes into failure messages


@pytest.fixture
def studio_server(live_server: Any, start_worker: Callable[..., Any], settings: Any, slow_models: dict) -> StudioServer:
    """The live server plus a real Celery worker rendering with a slow engine."""
    settings.STUDIO_MODELS = slow_models  # the web side records the same engine the worker uses
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(slow_models), STUDIO_PROGRESS_MIN_INTERVAL="0")
    return StudioServer(url=live_server.url, worker=worker)


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
