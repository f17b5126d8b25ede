"""Quoted text through the whole studio: typed in the form, rendered by a real worker, shown.

The engine's own tests (tests/test_typeset_scripts.py) check each glyph against the font's
missing-glyph box and every line break at all six ratios; here the same promises are
checked on what a designer actually gets back from the form.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import expect

from generations.engines.typeset import glyphs
from generations.engines.typeset.engine import TypesetEngine
from generations.models import Generation, Stage
from generations.specs import build_spec

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
TIMEOUT = 90_000  # a cold worker on a busy two-core machine, three renders
CJK_FONT = "NotoSansCJKsc-Bold-subset"
QUOTES = {"zh": "新年快乐", "ja": "東京へようこそ", "words": "BROWSER BAR"}


def test_chinese_japanese_and_multi_word_quotes_come_back_drawn_and_unbroken(
    studio_server, page, context, log_in, make_user
):
    user = make_user("lena", credits=100)
    log_in(context, user)
    page.goto(studio_server.url)
    for quote in QUOTES.values():
        page.fill("#id_prompt", f"Night city poster with the title '{quote}'")
        page.locator("#id_prompt").press("Control+Enter")
        expect(page.locator(f"#gallery .tile:has(img[alt*='{quote}'])")).to_have_count(1, timeout=TIMEOUT)

    done = {g.prompt: g for g in Generation.objects.filter(user=user)}
    assert len(done) == 3 and all(g.stage == Stage.COMPLETED for g in done.values()), studio_server.worker.log()
    for key, quote in QUOTES.items():
        g = done[f"Night city poster with the title '{quote}'"]
        (entry,) = g.plan["text_boxes"]
        assert entry["text"] == quote
        if key == "words":
            assert entry["lines"] in (["BROWSER BAR"], ["BROWSER", "BAR"])  # never "BROWS" / "ER BAR"
            continue
        assert "".join(entry["lines"]) == quote and entry["font"] == CJK_FONT
        assert all(ord(ch) in glyphs.coverage(f"{CJK_FONT}.otf") for ch in quote)  # real glyphs, not .notdef
        # The delivered PNG has the glyphs painted where the plan put them: against the same
        # render without the quote, the text box's pixels changed.
        with default_storage.open(g.image_png, "rb") as f:
            delivered = Image.open(io.BytesIO(f.read())).convert("RGB")
        spec = build_spec({"model": g.model, "prompt": "Night city poster with the title", "seed": g.seed})
        bare = TypesetEngine().render(spec, lambda fraction, note: None).image.convert("RGB")
        x0, y0, x1, y1 = entry["box"]
        changed = ImageChops.difference(delivered, bare).crop((x0, y0, x1, y1))
        assert sum(ImageStat.Stat(changed).mean) / 3 > 10

    # And the designer sees it: the lightbox shows the full image at its own size.
    page.locator(f"#gallery .tile:has(img[alt*='{QUOTES['zh']}']) .tile-img").click()
    shown = page.locator("dialog[open] img").first
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.complete && img.naturalWidth") == 1024
