"""The typeset engine letters any script it ships a font for, breaks lines between words,
keeps text off busy motifs with enough contrast, and refuses (before charging) what it
cannot draw."""

from __future__ import annotations

import itertools

import pytest
from PIL import ImageChops, ImageStat

from accounts import ledger
from generations.engines import EngineError
from generations.engines.typeset import breaks, glyphs, text
from generations.engines.typeset.engine import TypesetEngine
from generations.models import Generation
from generations.specs import ASPECT_RATIOS, Spec, SpecError, build_spec
from tests.api_support import MODEL, assert_error

CJK_FONT = "NotoSansCJKsc-Bold-subset"
CHINESE, JAPANESE = "新年快乐", "東京へようこそ"
NOTDEF = "\U0010fffd"  # a private-use character no shipped font maps: its glyph is the font's .notdef


def render(**fields):
    spec = Spec(model="seedream-5.0-lite", **{"seed": 7, **fields})
    return TypesetEngine().render(spec, lambda fraction, note: None)


def _mask(font_name: str, ch: str) -> bytes:
    image = text.font(font_name, 48).getmask(ch)
    return bytes(image) + bytes(str(image.size), "ascii")


@pytest.mark.parametrize("quote", [CHINESE, JAPANESE])
def test_chinese_and_japanese_quotes_are_drawn_from_the_cjk_font_not_as_boxes(quote):
    with_text = render(prompt=f"Night city skyline poster with the title '{quote}'")
    without = render(prompt="Night city skyline poster with the title")
    (entry,) = with_text.plan["text_boxes"]
    assert entry["text"] == quote and "".join(entry["lines"]) == quote
    assert entry["runs"] == [[quote, CJK_FONT]] and entry["font"] == CJK_FONT  # the plan says which font drew it

    font_file = f"{CJK_FONT}.otf"
    notdef = _mask(font_file, NOTDEF)
    masks = [_mask(font_file, ch) for ch in quote]
    for ch, mask in zip(quote, masks, strict=True):
        assert ord(ch) in glyphs.coverage(font_file)
        assert mask != notdef, f"{ch!r} would be drawn as the missing-glyph box"
    assert len(set(masks)) == len(set(quote))  # every character its own shape: boxes would all be alike
    # What the engine used to do: the Latin face has none of these, so each would be its box.
    assert all(_mask(text.TEXT_FONT, ch) == _mask(text.TEXT_FONT, NOTDEF) for ch in quote)

    x0, y0, x1, y1 = entry["box"]
    diff = ImageChops.difference(with_text.image, without.image).crop((x0, y0, x1, y1))
    assert sum(ImageStat.Stat(diff).mean) / 3 > 10  # and the glyphs really were painted there


def test_mixed_latin_and_cjk_take_each_character_from_the_first_font_that_has_it():
    plan = render(prompt="Cafe poster with 'Coffee 咖啡 コーヒー'", aspect_ratio="9:16", style="minimalist").plan
    entry = plan["text_boxes"][0]
    assert entry["runs"] == [["Coffee ", "Lato-Bold"], ["咖啡 コーヒー", CJK_FONT]]
    assert glyphs.runs("مرحبا 2026", text.TEXT_FONT) == [("مرحبا 2026", "NotoSansArabic-Bold.ttf")]
    assert glyphs.runs("नमस्ते", text.TEXT_FONT) == [("नमस्ते", "NotoSansDevanagari-Bold.ttf")]


WORDS = [
    "BROWSER BAR",
    "The Lighthouse Keeper",
    "Grand Opening Sale This Weekend Only",
    "Welcome to the Future of Independent Design",
]


def _whole_words(lines: list[str], quote: str) -> bool:
    return " ".join(lines) == quote and all(line == line.strip() and "  " not in line for line in lines)


@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
def test_lines_break_only_between_words_at_every_aspect_ratio(ratio):
    prompts = [
        f"Abstract shapes poster, '{WORDS[0]}' and '{WORDS[1]}'",
        f"Night sky over the mountains with the moon, '{WORDS[2]}' and '{WORDS[3]}'",
        f"Chinese new year poster '{CHINESE}' and '{JAPANESE}'",
    ]
    entries = [e for p in prompts for e in render(prompt=p, aspect_ratio=ratio).plan["text_boxes"]]
    for entry in entries:
        quote, lines = entry["text"], entry["lines"]
        assert "hyphenated" not in entry
        if quote in WORDS:
            assert _whole_words(lines, quote), (ratio, lines)
        else:
            assert "".join(lines) == quote, (ratio, lines)
            assert not any(line[0] in breaks.NO_LINE_START for line in lines), lines
            assert not any(line[-1] in breaks.NO_LINE_END for line in lines), lines
    browser = next(e for e in entries if e["text"] == "BROWSER BAR")
    if ratio == "1:1":
        assert browser["lines"] in (["BROWSER", "BAR"], ["BROWSER BAR"])


def test_balancing_lines_never_splits_a_word():
    def measure(t: str) -> float:
        return text.text_width(text.TEXT_FONT, 100, t)

    width = measure("BROWSER BAR") - 1
    assert breaks.balanced_wrap("BROWSER BAR", measure, width) == ["BROWSER", "BAR"]
    assert breaks.wrap("BROWSER", measure, measure("BROW")) == ["BROWSER"]  # too wide, yet whole
    assert breaks.wrap("TWO  SPACES", measure, 10_000) == ["TWO  SPACES"]  # exactly as written


def test_cjk_breaks_between_characters_but_never_before_closing_or_after_opening_punctuation():
    assert breaks.pieces("「東京」へ、ようこそ。") == [
        ("「東", ""),
        ("京」", ""),
        ("へ、", ""),
        ("よ", ""),
        ("う", ""),
        ("こ", ""),
        ("そ。", ""),
    ]
    assert breaks.pieces("Hello 世界 2026") == [("Hello", ""), ("世", " "), ("界", ""), ("2026", " ")]

    def measure(t: str) -> float:
        return text.text_width(text.TEXT_FONT, 100, t)

    assert breaks.balanced_wrap(JAPANESE, measure, measure(JAPANESE) - 1) == ["東京へ", "ようこそ"]


def test_the_size_shrinks_before_a_word_is_split():
    entry = render(prompt="'Unbelievable Extraordinary Transformations'", aspect_ratio="9:16").plan["text_boxes"][0]
    assert _whole_words(entry["lines"], "Unbelievable Extraordinary Transformations")
    assert "hyphenated" not in entry


SCENES = [
    "Starry night over the mountains with the moon, headline 'The Lighthouse Keeper' and 'A NOVEL'",
    "Modern poster, abstract shapes, 'The Lighthouse Keeper' and 'Chapter One' and 'footer text here'",
    "Desert sunset, 'مرحبا بالعالم' and 'Evening Market'",
    "Minimal abstract shapes with 'BROWSER BAR'",
    "Chinese new year poster with lanterns, '新年快乐' and '恭喜发财\uff0c万事如意\uff01'",
]


def _overlap(a: list[int], b: list[int]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.mark.parametrize(("prompt", "ratio"), list(itertools.product(SCENES, ["1:1", "9:16", "16:9", "3:4"])))
@pytest.mark.parametrize("deep", [False, True])
def test_text_keeps_off_busy_motifs_and_reaches_its_contrast(prompt, ratio, deep):
    style = "minimalist" if prompt.startswith("Minimal") else "auto"
    plan = render(prompt=prompt, aspect_ratio=ratio, deep_thinking=deep, style=style).plan
    w, h = ASPECT_RATIOS[ratio]
    motifs = plan["motif_boxes"]
    assert motifs  # each of these scenes paints a moon, a sun or discs
    for entry in plan["text_boxes"]:
        for motif in motifs:
            assert not _overlap(entry["box"], motif["box"]), (entry["text"], motif)
        x0, y0, x1, y1 = entry["box"]
        edge = 0.03 * min(w, h)
        assert x0 >= edge and y0 >= edge and x1 <= w - edge and y1 <= h - edge, entry  # away from the edges
        assert entry["contrast"] >= entry["contrast_min"] >= 3.0, entry
        assert entry["contrast_min"] == (3.0 if entry is plan["text_boxes"][0] and entry["size"] >= 32 else 4.5)


def test_low_contrast_gets_an_outline_or_a_plate_and_says_so():
    # Grey text asked for on a grey background: the ground alone cannot carry it.
    plan = render(prompt="'QUIET' in grey text on a grey background", style="minimalist").plan
    (entry,) = plan["text_boxes"]
    assert entry["contrast_ground"] < entry["contrast_min"] <= entry["contrast"]
    assert "plate" in entry["treatment"]
    outlined = render(prompt="'QUIET' in grey text on a grey background", style="digital-art").plan
    assert "outline" in outlined["text_boxes"][0]["treatment"]
    assert outlined["text_boxes"][0]["contrast"] >= outlined["text_boxes"][0]["contrast_min"]


@pytest.mark.parametrize(("quote", "bad"), [("Launch 🚀 day", ["🚀"]), ("ሰላም", ["ሰ", "ላ", "ም"])])
def test_what_no_shipped_font_can_draw_is_named_and_refused_by_validation(quote, bad):
    assert glyphs.undrawable(quote) == bad
    with pytest.raises(SpecError) as refused:
        build_spec({"model": MODEL, "prompt": f"Poster with '{quote}'"})
    assert refused.value.code == "invalid_prompt" and refused.value.field == "prompt"
    for ch in bad:
        assert f'"{ch}"' in refused.value.message and f"U+{ord(ch):04X}" in refused.value.message
    # Only quoted text is drawn: the same characters outside the quotes are fine.
    assert build_spec({"model": MODEL, "prompt": f"Poster about {quote} with 'LAUNCH'"}).prompt
    assert build_spec({"model": MODEL, "prompt": f"Poster '{CHINESE}' and '{JAPANESE}' and 'Café'"}).prompt


def test_the_engine_fails_rather_than_drawing_boxes():
    with pytest.raises(EngineError, match="U\\+1F680"):
        render(prompt="Poster 'Launch 🚀'")


def test_the_api_refuses_undrawable_text_before_charging(account, settings):
    acct = account(credits=1000)
    settings.STUDIO_MODELS = {MODEL: {"engine": "typeset", "options": {}}}  # the API tests' default is a fake
    response = acct.http.post("/images/generate", json={"model": MODEL, "prompt": "Poster 'Launch 🚀 today'"})
    message = assert_error(response, 400, "invalid_prompt")
    assert "🚀" in message and "U+1F680" in message
    batch = {"generations": [{"model": MODEL, "prompt": "'OK'"}, {"model": MODEL, "prompt": "'ሰላም'"}]}
    assert "generations[1]" in assert_error(acct.http.post("/images/batch", json=batch), 400, "invalid_prompt")
    assert not Generation.objects.exists()
    assert ledger.balance(acct.user) == 1000


def test_the_studio_form_refuses_undrawable_text_before_charging(logged_in, user):
    data = {"prompt": "Poster 'Launch 🚀 today'", "aspect_ratio": "1:1", "style": "auto", "count": "1"}
    response = logged_in.post("/generate", {**data, "seed_mode": "random", "seed": ""})
    assert response.status_code == 422
    assert "U+1F680" in response.content.decode()
    assert not Generation.objects.exists()
    assert ledger.balance(user) == 50


def test_the_cjk_subset_and_the_script_fonts_ship_with_their_licences():
    names = {p.name for p in text.FONT_DIR.iterdir()}
    assert set(glyphs.FALLBACK_CHAIN) <= names
    assert {"LICENSE-Noto.txt", "LICENSE-NotoCJK.txt", "README.md"} <= names
    cjk = glyphs.coverage(f"{CJK_FONT}.otf")
    assert {ord(c) for c in "的一是了我不人在他有这中大来上国个到说们为子和你地出道也时年"} <= cjk  # common hanzi
    assert all(cp in cjk for cp in range(0x3041, 0x3097))  # every hiragana
    assert all(cp in cjk for cp in range(0x30A1, 0x30FB))  # every katakana
    assert (text.FONT_DIR / f"{CJK_FONT}.otf").stat().st_size < 4_500_000
