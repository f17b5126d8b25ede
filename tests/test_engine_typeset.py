"""The embedded `typeset` engine: sizes, determinism, styles, palette, lettering, planning."""

from __future__ import annotations

import itertools
import json

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from generations.engines.typeset import prompt as prompts
from generations.engines.typeset import text
from generations.engines.typeset.engine import TypesetEngine
from generations.specs import ASPECT_RATIOS, STYLES, Spec

PRESETS = [s for s in STYLES if s != "auto"]
THUMBNAIL = (
    "Professional YouTube thumbnail with text 'TOP 10 TIPS' in bold red font, excited person on left, "
    "bright blue background"
)


def render(progress=None, engine=None, **fields):
    spec = Spec(model="seedream-5.0-lite", **{"seed": 7, **fields})
    return (engine or TypesetEngine()).render(spec, progress or (lambda fraction, note: None))


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0..255, on a downsized copy."""
    diff = ImageChops.difference(a.resize((128, 128)), b.resize((128, 128)))
    return sum(ImageStat.Stat(diff).mean) / 3


def outside_boxes(diff: Image.Image, boxes: list[list[int]], grow: int = 1) -> Image.Image:
    """`diff` with every box blacked out: what changed anywhere else."""
    masked = diff.copy()
    draw = ImageDraw.Draw(masked)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0 - grow, y0 - grow, x1 + grow, y1 + grow), fill=0)
    return masked


@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
def test_output_is_exactly_the_requested_size_in_rgb(ratio):
    result = render(prompt="Poster 'HELLO' over a city skyline at night", aspect_ratio=ratio)
    assert result.image.size == ASPECT_RATIOS[ratio]
    assert result.image.mode == "RGB"


def test_same_inputs_give_identical_pixels_and_another_seed_does_not():
    fields = {"prompt": THUMBNAIL, "aspect_ratio": "16:9", "deep_thinking": True, "colors": ("#1e6bff", "#ffd400")}
    first = render(**fields)
    again = render(engine=TypesetEngine(), **fields)
    assert first.image.tobytes() == again.image.tobytes()
    assert first.plan == again.plan
    other = render(**{**fields, "seed": 8})
    assert first.image.tobytes() != other.image.tobytes()
    assert mean_difference(first.image, other.image) > 1


def test_every_style_preset_looks_different():
    prompt = "A cozy cabin in the mountains by a lake at sunset"
    images = {}
    for preset in PRESETS:
        result = render(prompt=prompt, style=preset)
        assert result.info["style_preset"] == preset
        images[preset] = result.image
    for a, b in itertools.combinations(PRESETS, 2):
        assert mean_difference(images[a], images[b]) > 10, (a, b)
    assert render(prompt=prompt, style="auto").info["style_preset"] in PRESETS


def test_a_free_text_style_maps_to_its_preset():
    assert render(prompt="A fox", style="soft watercolour wash").info["style_preset"] == "watercolor"


def _share_near_hues(image: Image.Image, hues: list[float]) -> float:
    small = image.resize((96, 96)).convert("HSV")
    near = 0
    for count, (h, s, v) in small.getcolors(96 * 96):
        hue = h / 255 * 360
        if s > 90 and v > 50 and any(min(abs(hue - x), 360 - abs(hue - x)) < 25 for x in hues):
            near += count
    return near / (96 * 96)


@pytest.mark.parametrize("style", ["auto", "photorealistic", "watercolor", "retro", "minimalist"])
@pytest.mark.parametrize("prompt", ["Abstract shapes", "Mountain sunset over the ocean", "Portrait of a person"])
def test_the_requested_palette_covers_most_of_the_image(style, prompt):
    result = render(prompt=prompt, style=style, colors=("#ff0000", "#00ff00"))
    assert _share_near_hues(result.image, [0, 120]) > 0.5
    assert result.plan["palette"][:2] != []


def test_a_background_colour_word_steers_the_background():
    image = render(prompt="Bright blue background with a logo", style="digital-art").image
    assert _share_near_hues(image, [220]) > 0.4


def test_quoted_text_changes_only_pixels_inside_the_text_boxes():
    base = "Poster with the title {} over the mountains at sunrise, and a lake"
    with_text = render(prompt=base.format("'HELLO WORLD'"))
    other_text = render(prompt=base.format("'Goodbye, Moon'"))
    no_text = render(prompt=base.format("").replace("  ", " "))
    assert no_text.plan["text_boxes"] == []
    boxes = [t["box"] for t in with_text.plan["text_boxes"]]
    assert [t["text"] for t in with_text.plan["text_boxes"]] == ["HELLO WORLD"]

    diff = ImageChops.difference(with_text.image, no_text.image)
    assert outside_boxes(diff, boxes).getbbox() is None  # nothing changed outside the boxes
    x0, y0, x1, y1 = boxes[0]
    assert sum(ImageStat.Stat(diff.crop((x0, y0, x1, y1))).mean) / 3 > 10  # and plenty changed inside

    both = boxes + [t["box"] for t in other_text.plan["text_boxes"]]
    assert outside_boxes(ImageChops.difference(with_text.image, other_text.image), both).getbbox() is None


def test_deep_thinking_changes_the_layout_not_the_scene():
    prompt = "Sale poster 'SUMMER SALE' with a sunburst"
    plain, deep = render(prompt=prompt), render(prompt=prompt, deep_thinking=True)
    boxes = [t["box"] for t in plain.plan["text_boxes"] + deep.plan["text_boxes"]]
    assert outside_boxes(ImageChops.difference(plain.image, deep.image), boxes).getbbox() is None


@pytest.mark.parametrize("ratio", list(ASPECT_RATIOS))
@pytest.mark.parametrize("deep", [False, True])
def test_long_text_wraps_and_fits_inside_the_image(ratio, deep):
    words = "The Extraordinarily Long Title Of A Book That Keeps Going Until It Has To Wrap Onto Many Lines"
    result = render(prompt=f"Book cover, '{words}' and 'A NOVEL'", aspect_ratio=ratio, deep_thinking=deep)
    w, h = result.image.size
    entries = result.plan["text_boxes"]
    assert [e["text"] for e in entries] == [words, "A NOVEL"]
    assert " ".join(entries[0]["lines"]) == words and len(entries[0]["lines"]) > 1
    for e in entries:
        x0, y0, x1, y1 = e["box"]
        assert 0 < x0 < x1 < w and 0 < y0 < y1 < h, e  # strictly inside: nothing clipped at the edges


def test_a_word_wider_than_the_image_is_hyphenated_not_clipped_and_the_plan_says_so():
    word = "Supercalifragilisticexpialidocious" * 3
    result = render(prompt=f"'{word}'", aspect_ratio="9:16")
    entry = result.plan["text_boxes"][0]
    assert len(entry["lines"]) > 1
    assert all(line.endswith("-") for line in entry["lines"][:-1])
    assert "".join(line.removesuffix("-") for line in entry["lines"]) == word
    assert entry["hyphenated"] == [word]
    assert entry["box"][0] > 0 and entry["box"][2] < result.image.width


def test_text_colour_and_weight_follow_the_words_beside_the_quote():
    entry = render(prompt=THUMBNAIL, aspect_ratio="16:9").plan["text_boxes"][0]
    r, g, b = (int(entry["color"][i : i + 2], 16) for i in (1, 3, 5))
    assert r > 170 and g < 90 and b < 90  # red
    assert entry["font"] == "Lato-Black"  # bold
    assert entry["text"] == "TOP 10 TIPS"
    white = render(prompt="Flyer with white text 'OPEN LATE' on a dark background").plan["text_boxes"][0]
    assert white["color"] == "#ffffff"
    yellow = render(prompt="'WOW' in yellow letters").plan["text_boxes"][0]
    assert yellow["color"] != "#ffffff" and int(yellow["color"][1:3], 16) > 200


def test_deep_thinking_scores_candidates_and_keeps_the_best():
    result = render(prompt=THUMBNAIL, aspect_ratio="16:9", deep_thinking=True)
    plan = result.plan
    json.dumps(plan)  # JSON-serialisable, as stored
    assert plan["deep_thinking"] is True
    candidates = plan["candidates"]
    assert len(candidates) >= 3
    for c in candidates:
        assert set(c["scores"]) >= {"fit", "contrast", "clear"}
        assert len(c["box"]) == 4
    best = max(candidates, key=lambda c: c["score"])
    assert plan["chosen"] == best["name"]
    assert plan["chosen"] != "left"  # the person stands on the left
    assert plan["motifs"] and plan["palette"] and plan["text_boxes"]


def test_without_deep_thinking_the_plan_is_small_but_has_the_text_boxes():
    plan = render(prompt=THUMBNAIL).plan
    json.dumps(plan)
    assert plan["deep_thinking"] is False and "candidates" not in plan
    (entry,) = plan["text_boxes"]
    assert set(entry) >= {"text", "box", "color"}


def test_progress_is_reported_in_order_and_ends_at_one():
    for deep in (False, True):
        calls: list[tuple[float, str]] = []
        render(
            prompt=THUMBNAIL,
            deep_thinking=deep,
            progress=lambda fraction, note, calls=calls: calls.append((fraction, note)),
        )
        fractions = [f for f, _ in calls]
        assert len(calls) >= 5
        assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] >= 0
        assert all(isinstance(note, str) and note for _, note in calls)


def test_step_delay_sleeps_between_steps(monkeypatch):
    from generations.engines.typeset import engine as typeset

    slept = []
    monkeypatch.setattr(typeset.time, "sleep", slept.append)
    render(prompt="A fox", engine=TypesetEngine(step_delay=0.2))
    assert len(slept) >= 5 and set(slept) == {0.2}
    slept.clear()
    render(prompt="A fox")
    assert slept == []


def test_info_and_description_are_honest():
    result = render(prompt="Misty pine forest at dawn")
    assert result.info["engine"] == "typeset" and result.info["version"] == "1"
    assert result.info["style_preset"] in PRESETS and "forest" in result.info["motifs"]
    described = TypesetEngine().describe()
    assert described["neural"] is False and "offline preview" in described["label"].lower()
    assert "not a neural model" in described["description"]


@pytest.mark.parametrize(
    ("prompt", "quotes"),
    [
        ("don't stop", []),
        ("Don't stop believing, it's fine", []),
        ("the kids' toys and the dogs' bowls", []),
        ("'don't stop'", ["don't stop"]),
        ("text 'TOP 10 TIPS' in bold", ["TOP 10 TIPS"]),
        ('a sign that says "MUST WATCH", big', ["MUST WATCH"]),
        ("curly \u2018Hello\u2019 and \u201cWorld Tour\u201d.", ["Hello", "World Tour"]),
        ("\u201cIt\u2019s here\u201d", ["It\u2019s here"]),
        ('("Mixed Case Text")', ["Mixed Case Text"]),
        ("an unclosed 'quote here", []),
        ("empty '' quotes", []),
    ],
)
def test_quotes_open_and_close_only_at_word_boundaries(prompt, quotes):
    assert [q.text for q in prompts.find_quotes(prompt)] == quotes


def test_apostrophes_never_make_text():
    assert render(prompt="Don't stop me now, it's a kids' party").plan["text_boxes"] == []


def test_characters_missing_from_the_display_font_use_the_wide_fallback():
    assert text.font_for("Hello", text.HEADLINE_FONT) == text.HEADLINE_FONT
    assert text.font_for("\u2605 Stars \u2192 \u221e", text.HEADLINE_FONT) == text.FALLBACK_FONT
    entry = render(prompt="Poster '\u2605 Stars \u2192 \u221e'").plan["text_boxes"][0]
    assert entry["text"] == "\u2605 Stars \u2192 \u221e" and entry["font"] == "DejaVuSans-Bold"


def test_fonts_and_their_licences_ship_with_the_engine():
    names = {p.name for p in text.FONT_DIR.iterdir()}
    for name in (text.HEADLINE_FONT, text.TEXT_FONT, text.SLAB_FONT, text.FALLBACK_FONT):
        assert name in names
    assert {"LICENSE-Lato.txt", "LICENSE-DejaVu.txt", "LICENSE-RobotoSlab.txt", "LICENSE-Noto.txt"} <= names
    # Latin faces (2.1 MB), the CJK subset (3.8 MB) and four script faces (0.6 MB): a few MB, not the 20 MB TTC.
    assert sum(p.stat().st_size for p in text.FONT_DIR.iterdir()) < 7_000_000


def test_deep_thinking_without_text_sketches_compositions_and_paints_the_best():
    prompt = "A lone lighthouse on a cliff above the ocean at sunset"
    plain, deep = render(prompt=prompt), render(prompt=prompt, deep_thinking=True)
    assert "composition" not in plain.plan
    composition = deep.plan["composition"]
    candidates = composition["candidates"]
    assert len(candidates) == 6  # three subject positions, two arrangements each
    assert {c["side"] for c in candidates} == {"center", "left", "right"}
    assert composition["chosen"]["score"] == max(c["score"] for c in candidates)
    assert render(prompt=prompt, deep_thinking=True).image.tobytes() == deep.image.tobytes()  # deterministic


def test_deep_thinking_keeps_a_subject_side_the_prompt_asks_for():
    deep = render(prompt="Portrait of a person on the left, soft morning light", deep_thinking=True)
    assert {c["side"] for c in deep.plan["composition"]["candidates"]} == {"left"}
