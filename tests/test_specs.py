import pytest

from generations import specs
from generations.specs import SpecError, build_spec

OK = {"model": "seedream-5.0-lite", "prompt": "A serene mountain landscape at sunrise"}


def test_minimal_request_takes_the_documents_defaults():
    spec = build_spec(OK)
    assert (spec.aspect_ratio, spec.width, spec.height) == ("1:1", 1024, 1024)
    assert spec.style == "auto"
    assert spec.deep_thinking is False
    assert spec.colors == ()
    assert spec.seed is None
    assert spec.metadata == {}


@pytest.mark.parametrize(
    ("ratio", "size"),
    [("1:1", (1024, 1024)), ("16:9", (1360, 768)), ("9:16", (768, 1360)), ("4:3", (1184, 888)),
     ("3:4", (888, 1184)), ("3:2", (1248, 832))],
)  # fmt: skip
def test_each_aspect_ratio_has_the_documents_pixel_size(ratio, size):
    spec = build_spec({**OK, "aspect_ratio": ratio})
    assert (spec.width, spec.height) == size


def test_the_eight_style_presets():
    assert list(specs.STYLES) == [
        "auto", "photorealistic", "digital-art", "watercolor", "oil-painting", "anime", "minimalist", "retro",
    ]  # fmt: skip
    for preset in specs.STYLES:
        assert build_spec({**OK, "style": preset}).style_preset == preset


def test_a_style_description_is_kept_and_mapped_to_the_nearest_preset():
    spec = build_spec({**OK, "style": "Soft watercolour wash with pastel tones"})
    assert spec.style == "Soft watercolour wash with pastel tones"
    assert spec.style_preset == "watercolor"


def test_colors_are_normalised_to_lowercase_six_digit_hex():
    assert build_spec({**OK, "colors": ["#F0A", "#00ff00"]}).colors == ("#ff00aa", "#00ff00")


def test_unknown_fields_are_ignored_as_the_documents_javascript_example_sends_them():
    spec = build_spec({**OK, "aspect_ratio": "16:9", "aspectRatio": "16:9", "deepThinking": True})
    assert spec.aspect_ratio == "16:9"


def test_a_prompt_of_exactly_1000_characters_is_accepted():
    assert len(build_spec({**OK, "prompt": "a" * 1000}).prompt) == 1000


def test_a_random_seed_is_chosen_when_none_is_given_and_kept_when_given():
    assert build_spec({**OK, "seed": 42}).with_seed().seed == 42
    seeds = {build_spec(OK).with_seed().seed for _ in range(5)}
    assert all(isinstance(s, int) and 0 <= s <= specs.SEED_MAX for s in seeds)
    assert len(seeds) > 1


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"model": None}, "invalid_model", "model"),
        ({"model": "dall-e-9"}, "invalid_model", "model"),
        ({"prompt": None}, "invalid_prompt", "prompt"),
        ({"prompt": "   "}, "invalid_prompt", "prompt"),
        ({"prompt": "a" * 1001}, "invalid_prompt", "prompt"),
        ({"prompt": 42}, "invalid_prompt", "prompt"),
        ({"prompt": "a FORBIDDENWORD scene"}, "content_policy", "prompt"),
        ({"aspect_ratio": "2:1"}, "invalid_aspect_ratio", "aspect_ratio"),
        ({"aspect_ratio": 1}, "invalid_aspect_ratio", "aspect_ratio"),
        ({"style": "x" * 201}, "invalid_style", "style"),
        ({"style": 3}, "invalid_style", "style"),
        ({"colors": "#ff0000"}, "invalid_colors", "colors"),
        ({"colors": ["red"]}, "invalid_colors", "colors"),
        ({"colors": ["#ff00"]}, "invalid_colors", "colors"),
        ({"colors": ["#000000"] * 9}, "invalid_colors", "colors"),
        ({"deep_thinking": "yes"}, "invalid_deep_thinking", "deep_thinking"),
        ({"seed": -1}, "invalid_seed", "seed"),
        ({"seed": 2**32}, "invalid_seed", "seed"),
        ({"seed": 1.5}, "invalid_seed", "seed"),
        ({"seed": True}, "invalid_seed", "seed"),
        ({"metadata": ["a"]}, "invalid_metadata", "metadata"),
        ({"metadata": {"x": "y" * 9000}}, "invalid_metadata", "metadata"),
        ({"webhook_url": "ftp://example.com/x"}, "invalid_webhook_url", "webhook_url"),
        ({"webhook_url": "not a url"}, "invalid_webhook_url", "webhook_url"),
    ],
)
def test_each_rule_is_rejected_with_a_clear_error_naming_the_field(change, code, field):
    with pytest.raises(SpecError) as caught:
        build_spec({**OK, **change})
    assert caught.value.code == code
    assert caught.value.field == field
    assert caught.value.message


def test_blocked_terms_match_whole_words_only():
    assert build_spec({**OK, "prompt": "a gorgeous sunset"}).prompt == "a gorgeous sunset"  # "gore" inside a word
