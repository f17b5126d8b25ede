"""The studio page `/`: the prompt form, its validation, submitting, and the gallery's one poll."""

from __future__ import annotations

import html
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts import ledger
from generations import services, specs
from generations.models import Batch, Generation, Stage
from generations.worker import beats
from tests.studio_factories import make_generation

TIMES = "\N{MULTIPLICATION SIGN}"

HX = {"HX-Request": "true"}
STUDIO = "/"
CREATE = "/generate"


def valid(**overrides):
    data = {
        "prompt": "A lighthouse at dusk",
        "aspect_ratio": "16:9",
        "style": "watercolor",
        "colors": ["#ff6600", "#1e3a8a"],
        "deep_thinking": "on",
        "seed_mode": "random",
        "seed": "",
        "count": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def error_beside(content: str, field: str) -> str:
    """The error text rendered right after `field`'s control (the element id'd `<field>-error`)."""
    match = re.search(rf'id="{field}-error">(.*?)</p>', content, re.S)
    assert match, f"no error shown beside {field}"
    return html.unescape(match.group(1))


def test_anonymous_visitor_gets_the_landing_page_and_is_sent_to_log_in_for_the_studio(client):
    assert 'id="landing-title"' in client.get(STUDIO).content.decode()  # tests/test_landing.py
    response = client.get(STUDIO, {"q": "poster"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.post(CREATE, valid())["Location"].startswith(reverse("accounts:login"))


def test_new_user_sees_the_form_and_the_empty_gallery(logged_in):
    response = logged_in.get(STUDIO)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Your images will appear here" in content
    for name, (w, h) in specs.ASPECT_RATIOS.items():
        assert f'value="{name}" data-size="{w} {TIMES} {h} px"' in content
    for style, description in specs.STYLES.items():
        assert f'value="{style}" data-description="{html.escape(description)}"' in content
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert f"7 credits {TIMES} 1 = 7" in content
    assert "costs nothing extra" in content


@pytest.mark.parametrize(
    ("field", "overrides", "expected"),
    [
        ("prompt", {"prompt": "   "}, "prompt must not be empty"),
        ("prompt", {"prompt": "x" * 1001}, "the maximum is 1000"),
        ("prompt", {"prompt": "a forbiddenword poster"}, "content policy"),
        ("aspect_ratio", {"aspect_ratio": "5:4"}, "Aspect ratio '5:4' is not supported"),
        ("style", {"style": "s" * 201}, "style is at most 200 characters"),
        ("colors", {"colors": ["#ff6600", "orange"]}, "'orange' is not a hex code"),
        ("colors", {"colors": ["#000000"] * 9}, "the maximum is 8"),
        ("seed", {"seed_mode": "fixed", "seed": ""}, "Enter a seed, or choose Random."),
        ("seed", {"seed_mode": "fixed", "seed": "abc"}, "seed must be an integer from 0 to 4294967295"),
        ("seed", {"seed_mode": "fixed", "seed": str(2**32)}, "seed must be an integer from 0 to 4294967295"),
    ],
)
def test_a_bad_field_is_refused_with_the_api_rule_shown_beside_it(logged_in, user, field, overrides, expected):
    response = logged_in.post(CREATE, valid(**overrides))
    assert response.status_code == 422
    assert expected in error_beside(response.content.decode(), field)
    assert not Generation.objects.exists()
    assert ledger.balance(user) == 50


def test_htmx_form_errors_come_back_as_the_form_fragment(logged_in):
    response = logged_in.post(CREATE, valid(prompt=""), headers=HX)
    content = response.content.decode()
    assert response.status_code == 200  # htmx swaps 2xx only; the error is in the markup
    assert content.lstrip().startswith('<form id="gen-form"')
    assert "prompt must not be empty" in error_beside(content, "prompt")
    assert "<html" not in content


def test_the_form_redisplays_what_was_entered_after_an_error(logged_in):
    content = logged_in.post(CREATE, valid(prompt="", style="anime", count="3")).content.decode()
    assert re.search(r'value="anime"[^>]*checked', content)
    assert re.search(r'name="count" value="3" data-count checked', content)
    assert 'value="#ff6600"' in content and 'value="#1e3a8a"' in content


def test_posting_without_javascript_submits_and_redirects_back(logged_in, user):
    response = logged_in.post(CREATE, valid(seed_mode="fixed", seed="1234"))
    assert response.status_code == 302 and response["Location"] == STUDIO
    g = Generation.objects.get()
    assert (g.user, g.aspect_ratio, g.width, g.height) == (user, "16:9", 1360, 768)
    assert (g.style, g.colors, g.deep_thinking, g.seed) == ("watercolor", ["#ff6600", "#1e3a8a"], True, 1234)
    assert g.batch is None
    assert ledger.balance(user) == 43
    page = logged_in.get(STUDIO).content.decode()
    assert "Generating 1 image" in page
    assert f'id="gen-{g.public_id}"' in page


def test_htmx_post_returns_a_fresh_form_and_the_new_tiles_out_of_band(logged_in):
    response = logged_in.post(CREATE, valid(count="2"), headers=HX)
    content = response.content.decode()
    assert response.status_code == 200
    gens = list(Generation.objects.order_by("batch_index"))
    assert len(gens) == 2 and gens[0].batch is not None
    assert content.lstrip().startswith('<form id="gen-form"')
    assert '<div hx-swap-oob="afterbegin:#gallery">' in content
    for g in gens:
        assert f'id="gen-{g.public_id}"' in content
        assert f'name="pending" value="{g.public_id}"' in content  # the gallery's poll picks it up
    # The fresh form keeps the settings, and the balance pill is refreshed out of band.
    assert "A lighthouse at dusk</textarea>" in content
    assert re.search(r'value="16:9"[^>]*checked', content)
    assert 'id="credits-pill"' in content and 'hx-swap-oob="true"' in content and 'data-balance="36"' in content


def test_two_to_four_images_are_sent_as_one_batch_and_a_fixed_seed_counts_up(logged_in, user):
    logged_in.post(CREATE, valid(count="4", seed_mode="fixed", seed="7"))
    batch = Batch.objects.get()
    assert batch.total == 4
    # Four different, reproducible pictures, not the same one paid for four times.
    assert [g.seed for g in batch.generations.order_by("batch_index")] == [7, 8, 9, 10]
    assert ledger.balance(user) == 50 - 28


def test_a_short_balance_is_refused_with_a_message_and_nothing_is_created(logged_in, make_user, client):
    poor = make_user(credits=10)
    client.force_login(poor)
    response = client.post(CREATE, valid(count="2"))
    content = html.unescape(response.content.decode())
    assert response.status_code == 402
    assert "Not enough credits to complete this generation. Required: 14, Available: 10" in content
    assert not Generation.objects.exists() and not Batch.objects.exists()
    assert ledger.balance(poor) == 10
    htmx = html.unescape(client.post(CREATE, valid(count="2"), headers=HX).content.decode())
    assert "Required: 14, Available: 10" in htmx
    assert not Generation.objects.exists()


def test_the_page_warns_before_submitting_when_the_balance_is_short(make_user, client):
    poor = make_user(credits=5)
    client.force_login(poor)
    content = client.get(STUDIO).content.decode()
    assert re.search(r'<p class="cost-short" data-cost-short role="status">\s*Not enough credits', content)


def test_too_many_in_progress_is_a_form_error(logged_in, user):
    make_generation(user, stage=Stage.QUEUED)
    make_generation(user, stage=Stage.RENDERING)
    response = logged_in.post(CREATE, valid())
    assert response.status_code == 429
    assert "Too many generations in progress" in html.unescape(response.content.decode())
    assert Generation.objects.count() == 2


def test_the_last_settings_do_not_come_back_by_themselves_on_the_next_visit(logged_in):
    logged_in.post(CREATE, valid(style="retro", aspect_ratio="3:4", count="2"))
    content = logged_in.get(STUDIO).content.decode()
    assert re.search(r'value="auto"[^>]*checked', content)
    assert re.search(r'value="1:1"[^>]*checked', content)
    assert "A lighthouse at dusk</textarea>" not in content
    assert f"7 credits {TIMES} 1 = 7" in content


def test_use_all_fills_every_setting_including_the_seed(logged_in, user):
    g = make_generation(user, prompt="Neon koi", aspect_ratio="9:16", style="anime", colors=["#112233", "#445566"],
                        deep_thinking=True, seed=987654)  # fmt: skip
    content = logged_in.get(f"{STUDIO}?from={g.public_id}&mode=all").content.decode()
    assert "Neon koi</textarea>" in content
    assert re.search(r'value="9:16"[^>]*checked', content)
    assert re.search(r'value="anime"[^>]*checked', content)
    assert 'value="#112233"' in content and 'value="#445566"' in content
    assert re.search(r'name="deep_thinking" value="on" checked', content)
    assert re.search(r'name="seed_mode" value="fixed" checked', content)
    assert 'value="987654"' in content


def test_remix_takes_every_setting_but_the_seed(logged_in, user):
    g = make_generation(user, prompt="Neon koi", style="anime", seed=987654)
    content = logged_in.get(f"{STUDIO}?from={g.public_id}&mode=remix").content.decode()
    assert "Neon koi</textarea>" in content
    assert re.search(r'name="seed_mode" value="random" checked', content)
    assert "987654" not in content.split('id="gen-form"')[1].split("</form>")[0]


def test_use_seed_keeps_the_last_settings_and_takes_only_the_seed(logged_in, user):
    logged_in.post(CREATE, valid(prompt="My own prompt", style="retro"))
    g = make_generation(user, prompt="Someone else's idea", style="anime", seed=555)
    content = logged_in.get(f"{STUDIO}?from={g.public_id}&mode=seed").content.decode()
    assert "My own prompt</textarea>" in content
    assert re.search(r'value="retro"[^>]*checked', content)
    assert 'value="555"' in content


def test_taking_settings_from_another_users_image_is_a_404(logged_in, make_user):
    other = make_generation(make_user())
    assert logged_in.get(f"{STUDIO}?from={other.public_id}&mode=all").status_code == 404


TILES = "/tiles"


def poll(client, *public_ids, **params):
    return client.get(TILES, {"pending": list(public_ids), **params}, headers=HX)


def oob_tile(content: str, public_id: str) -> str:
    """The out-of-band tile for `public_id` in a poll's answer."""
    match = re.search(rf'<figure id="gen-{public_id}".*?</figure>', content, re.S)
    assert match, f"no tile for {public_id}"
    assert 'hx-swap-oob="true"' in match.group(0)
    return match.group(0)


def test_the_studio_page_has_one_poll_for_every_pending_tile(logged_in, user):
    pending = [make_generation(user, stage=Stage.QUEUED) for _ in range(3)]
    done = make_generation(user)
    page = logged_in.get(STUDIO).content.decode()
    assert page.count('id="tile-poller"') == 1
    poller = re.search(r'<div id="tile-poller".*?</div>', page, re.S).group(0)
    assert 'hx-get="/tiles"' in poller and 'hx-include=".tile-pending-id"' in poller
    # It asks only while a pending tile is on the page and the page is visible.
    assert "!!document.querySelector('.tile-pending-id')" in poller and "visibilityState" in poller
    for g in pending:
        assert f'class="tile-pending-id" name="pending" value="{g.public_id}"' in page
    assert f'name="pending" value="{done.public_id}"' not in page
    assert "every 1s" not in page.replace(poller, "")  # no tile polls by itself


def test_one_poll_refreshes_every_pending_tile_named_out_of_band(logged_in, user):
    rendering = make_generation(user, stage=Stage.RENDERING, progress=0.4, progress_note="planning layout")
    queued = make_generation(user, stage=Stage.QUEUED)
    finished = make_generation(user)
    content = poll(logged_in, rendering.public_id, queued.public_id, finished.public_id).content.decode()
    tile = oob_tile(content, rendering.public_id)
    assert 'value="0.400"' in tile and "Rendering · 40%" in tile and "Planning layout" in tile
    assert 'name="pending"' in tile  # still pending: the next poll asks for it again
    assert "Queued · 1 in line" in oob_tile(content, queued.public_id)
    done = oob_tile(content, finished.public_id)
    assert 'name="pending"' not in done  # finished: no longer polled
    src = re.search(r'<img src="([^"]+)"', done).group(1)
    thumb = logged_in.get(src)
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"


def test_one_poll_costs_the_same_queries_for_two_tiles_or_twenty(logged_in, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n: int) -> int:
        ids = [make_generation(user, stage=Stage.QUEUED).public_id for _ in range(n)]
        poll(logged_in, *ids, batches="1")  # warm: the session, the measured times
        with CaptureQueriesContext(connection) as captured:
            assert poll(logged_in, *ids, batches="1").status_code == 200
        return len(captured)

    assert queries(2) == queries(20)


def test_a_failed_tile_says_so_notes_the_refund_and_refreshes_the_balance(logged_in, user):
    g = make_generation(user, stage=Stage.FAILED, error_message="The engine gave up.")
    content = poll(logged_in, g.public_id).content.decode()
    tile = oob_tile(content, g.public_id)
    assert 'name="pending"' not in tile
    assert "This one failed" in tile and "The engine gave up." in tile
    assert "7 credits refunded" in tile
    assert re.search(r'id="credits-pill"[^>]*hx-swap-oob="true"|hx-swap-oob="true"[^>]*id="credits-pill"', content)


def test_a_poll_naming_another_users_image_learns_nothing(logged_in, make_user):
    other = make_generation(make_user(), stage=Stage.QUEUED, prompt="A secret plan")
    content = poll(logged_in, other.public_id).content.decode()
    assert "No longer here" in content and "A secret plan" not in content


def test_a_polled_tile_whose_image_is_gone_says_so_and_stops_polling(logged_in, user, make_user):
    g = make_generation(user, stage=Stage.QUEUED)
    stranger = make_generation(make_user(), stage=Stage.QUEUED)
    services.delete(user=user, generations=[g])
    public_ids = (g.public_id, stranger.public_id, "img_never_existed")
    response = poll(logged_in, *public_ids)
    content = response.content.decode()
    assert response.status_code == 200
    for public_id in public_ids:
        tile = oob_tile(content, public_id)
        assert "No longer here" in tile and 'name="pending"' not in tile


def test_the_poll_answers_the_batch_strip_when_the_page_has_one(logged_in, user):
    response = logged_in.post(CREATE, valid(count="3"), headers=HX)
    batch = Batch.objects.get()
    created = response.content.decode()
    assert 'id="gallery-batches"' in created and f'data-batch="{batch.public_id}"' in created
    assert "0 of 3 done" in created
    first, *rest = batch.generations.order_by("batch_index")
    Generation.objects.filter(pk=first.pk).update(stage=Stage.COMPLETED, progress=1.0)
    Generation.objects.filter(pk=rest[0].pk).update(stage=Stage.RENDERING, progress=0.5)
    content = poll(logged_in, *[g.public_id for g in rest], batches="1").content.decode()
    strip = re.search(r'<div id="gallery-batches".*?</div>\s*</div>', content, re.S).group(0)
    assert 'hx-swap-oob="true"' in strip and "1 of 3 done" in strip
    assert 'value="0.500"' in strip  # (1 finished + 0.5 rendering) of 3
    # A board's poll has no strip to fill, so none is sent.
    assert 'id="gallery-batches"' not in poll(logged_in, rest[1].public_id).content.decode()


def test_a_plain_request_for_the_poll_goes_to_the_studio(logged_in):
    response = logged_in.get(TILES)
    assert response.status_code == 302 and response["Location"] == STUDIO


def test_a_poll_after_the_session_ended_sends_the_whole_page_to_log_in(client, user):
    g = make_generation(user, stage=Stage.QUEUED)
    response = client.get(
        TILES, {"pending": [g.public_id]}, headers={**HX, "HX-Current-URL": "http://testserver/?q=poster"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login?next=/%3Fq%3Dposter"
    # A plain request still gets the ordinary redirect.
    plain = client.get(TILES)
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login")


def test_the_form_says_rendering_is_paused_while_no_render_worker_beats(logged_in):
    cache.delete(beats._key("render"))
    paused = logged_in.get(STUDIO)
    assert paused.status_code == 200 and b"data-rendering-paused" in paused.content
    assert b"Rendering is paused" in paused.content

    beats.beat(["render"])
    assert b"data-rendering-paused" not in logged_in.get(STUDIO).content
