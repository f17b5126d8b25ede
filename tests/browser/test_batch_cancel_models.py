"""In Chromium: the batch strip's "Cancel batch", and the form's facts about the chosen model.

Screenshots go to test-output/screenshots/ (or $STUDIO_SHOTS_DIR) for a person to look at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts import ledger
from generations import services
from generations.engines.ark import ArkEngine
from generations.engines.typeset.engine import TypesetEngine
from generations.models import Generation, Stage
from tests.browser.conftest import SCREENSHOTS
from tests.helpers import spec

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def shots() -> Path:
    folder = Path(os.environ.get("STUDIO_SHOTS_DIR") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def catalog(settings, tmp_path) -> dict:
    folder = tmp_path / "sdxl-base-1.0"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionXLPipeline"}))
    models = {
        "seedream-5.0-lite": {"engine": "typeset", "options": {}},
        "seedream-ark": {"engine": "ark", "options": {"api_key": "sk-test"}},
        "gpt-image-1": {"engine": "openai", "options": {"base_url": "http://127.0.0.1:9/v1", "model": "gpt-image-1"}},
        "local-sdxl": {"engine": "diffusers", "options": {"path": str(folder)}},
    }
    settings.STUDIO_MODELS = models
    return models


def test_cancel_batch_asks_first_then_refunds_and_says_so(live_server, make_context, log_in, make_user, shots):
    user = make_user(tier="pro", credits=100)
    batch = services.submit_batch(user=user, specs_=[spec(prompt=f"Festival poster {i}") for i in range(3)]).batch
    first = batch.generations.order_by("batch_index").first()
    Generation.objects.filter(pk=first.pk).update(stage=Stage.RENDERING, progress=0.4, attempts=1)
    context = make_context(viewport=VIEWPORTS["desktop"])
    log_in(context, user)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    button = page.locator("[data-batch-cancel]")
    expect(button).to_be_visible()
    page.screenshot(path=str(shots / "batch-strip-desktop-light.png"))
    phone = make_context(viewport=VIEWPORTS["phone"], color_scheme="dark")
    log_in(phone, user)
    small = phone.new_page()
    small.goto(f"{live_server.url}/")
    small.locator("[data-batch-cancel]").scroll_into_view_if_needed()
    small.screenshot(path=str(shots / "batch-strip-phone-dark.png"))

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    button.click()
    expect(button).to_be_visible()  # dismissed: nothing sent
    assert asked and "3 unfinished images" in asked[0]
    assert ledger.balance(user) == 79

    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.locator("[data-batch-canceled] span")).to_have_text("Canceled 3 images · 21 credits refunded")
    expect(page.locator("#credits-pill .credits-amount")).to_have_text("100")
    expect(page.locator("#gen-form [data-balance-text]").first).to_have_text("100")  # the cost line follows the pill
    expect(page.locator(".batch-progress")).to_have_count(0)
    expect(page.locator(f"#gen-{first.public_id} .tile-status")).to_contain_text("Canceled")
    page.screenshot(path=str(shots / "batch-canceled-desktop-light.png"))
    assert ledger.balance(user) == 100 == ledger.ledger_total(user)


def shoot(page, path: Path) -> None:
    """Two views of the form: its model line at the top, then its deep thinking switch."""
    page.locator("[data-model-line]").evaluate("node => node.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(path.with_name(path.stem + "-model.png")))
    page.locator("[data-deep-help]").evaluate("node => node.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(path.with_name(path.stem + "-deep.png")))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_form_tells_the_truth_about_the_chosen_model(
    live_server, make_context, log_in, make_user, catalog, shots, size, scheme
):
    context = make_context(viewport=VIEWPORTS[size], color_scheme=scheme, device_scale_factor=1)
    log_in(context, make_user(tier="pro", credits=100))
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    facts, deep = page.locator("[data-model-facts]"), page.locator("[data-deep-help]")

    expect(facts).to_contain_text("Engine typeset")
    expect(page.locator("[data-fact-kind]")).to_be_hidden()
    expect(page.locator("[data-offline-note]")).to_be_visible()
    expect(page.locator("[data-fact-upstream-item]")).to_be_hidden()
    expect(deep).to_have_text(f"{TypesetEngine.deep_thinking} It costs nothing extra.")
    shoot(page, shots / f"form-typeset-{size}-{scheme}.png")

    page.select_option("[data-model-select]", "seedream-ark")
    expect(facts).to_contain_text("Engine ark")
    expect(page.locator("[data-fact-kind]")).to_be_visible()
    expect(page.locator("[data-fact-upstream]")).to_have_text("seedream-5-0-260128")
    expect(deep).to_have_text(f"{ArkEngine.deep_thinking} It costs nothing extra.")
    expect(page.locator("[data-offline-note]")).to_be_hidden()
    shoot(page, shots / f"form-ark-{size}-{scheme}.png")

    page.select_option("[data-model-select]", "local-sdxl")
    expect(page.locator("[data-fact-upstream]")).to_have_text("sdxl-base-1.0")
    expect(deep).to_contain_text("60 denoising steps instead of 30, guidance 9 (not 7)")
    shoot(page, shots / f"form-diffusers-{size}-{scheme}.png")

    page.select_option("[data-model-select]", "gpt-image-1")
    expect(deep).to_contain_text("Nothing: the OpenAI images API has no deep thinking option")
    expect(page.locator("[data-fact-upstream]")).to_have_text("gpt-image-1")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the form scrolls sideways by {overflow}px at {size} width"
    page.screenshot(path=str(shots / f"studio-openai-{size}-{scheme}.png"), full_page=size == "phone")
