"""The image page `/images/<public_id>`: parameters, actions, star, delete, neighbours, downloads."""

from __future__ import annotations

import html
import io
import re

from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from generations.models import Generation, Stage, Star
from tests.studio_factories import make_generation

TIMES = "\N{MULTIPLICATION SIGN}"

HX = {"HX-Request": "true"}


def page(client, g) -> str:
    response = client.get(reverse("generations:image", args=[g.public_id]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def param(content: str, name: str) -> str:
    match = re.search(rf'<dd[^>]*data-param="{name}"[^>]*>(.*?)</dd>', content, re.S)
    assert match, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_page_shows_the_image_and_every_parameter(logged_in, user):
    g = make_generation(user, prompt="A koi pond, poster", aspect_ratio="3:2", style="oil-painting",
                        colors=["#112233", "#ddeeff"], deep_thinking=True, seed=31337,
                        plan={"layout": "rule of thirds", "candidates": 4, "text_boxes": ["poster"]})  # fmt: skip
    content = page(logged_in, g)
    assert re.search(r'<img src="[^"]+\.webp[^"]*" alt="A koi pond, poster" width="1248" height="832"', content)
    assert param(content, "engine") == "Fake engine (tests)"
    assert param(content, "size") == f"1248 {TIMES} 832"
    assert param(content, "aspect_ratio") == "3:2"
    assert param(content, "style") == "oil-painting"
    assert param(content, "colors") == "#112233 #ddeeff"
    assert param(content, "deep_thinking") == "On"
    assert param(content, "seed") == "31337"
    for label in ("Credits", "Created", "Started", "Finished", "Render time"):
        assert f"<dt>{label}</dt>" in content
    assert "What deep thinking decided" in content
    assert "<dt>Layout</dt><dd>rule of thirds</dd>" in content and "<dt>Text boxes</dt><dd>poster</dd>" in content


def test_use_all_remix_and_use_seed_link_to_the_form(logged_in, user):
    g = make_generation(user)
    content = page(logged_in, g)
    for mode in ("all", "remix", "seed"):
        assert f'href="/?from={g.public_id}&mode={mode}"' in content


def test_downloads_are_signed_links_with_a_filename_from_the_prompt(logged_in, user):
    g = make_generation(user, prompt="Misty Harbour at Dawn!", aspect_ratio="16:9")
    content = page(logged_in, g)
    png = re.search(r'<a class="btn" href="([^"]+)" download="([^"]+)" data-download="png"', content)
    webp = re.search(r'<a class="btn" href="([^"]+)" download="([^"]+)" data-download="webp"', content)
    assert png.group(2) == f"misty-harbour-at-dawn-{g.public_id[-6:]}.png"
    assert webp.group(2).endswith(".webp")
    response = logged_in.get(png.group(1))
    assert response["Content-Disposition"].startswith("attachment")
    assert png.group(2) in response["Content-Disposition"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert (image.format, image.size) == ("PNG", (1360, 768))


def test_another_users_image_is_a_404_and_anonymous_must_log_in(logged_in, client, make_user):
    theirs = make_generation(make_user())
    url = reverse("generations:image", args=[theirs.public_id])
    assert logged_in.get(url).status_code == 404
    assert logged_in.get(reverse("generations:image", args=["img_nope"])).status_code == 404
    logged_in.logout()
    assert client.get(url).status_code == 302


def test_neighbour_links_go_to_the_newer_and_older_image(logged_in, user):
    older, middle, newer = (make_generation(user, files=False) for _ in range(3))
    content = page(logged_in, middle)
    assert f'href="/images/{newer.public_id}" rel="prev" data-nav="newer"' in content
    assert f'href="/images/{older.public_id}" rel="next" data-nav="older"' in content
    first = page(logged_in, newer)
    assert 'data-nav="newer"' not in first and 'aria-disabled="true">← Newer' in first


def test_star_is_set_and_cleared_over_htmx(logged_in, user):
    g = make_generation(user, files=False)
    url = reverse("generations:star", args=[g.public_id])
    on = logged_in.post(url, {"starred": "1"}, headers=HX).content.decode()
    assert Star.objects.filter(user=user, generation=g).exists()
    assert 'aria-pressed="true"' in on and 'name="starred" value="0"' in on
    logged_in.post(url, {"starred": "1"}, headers=HX)  # idempotent: still one star
    assert Star.objects.filter(user=user, generation=g).count() == 1
    off = logged_in.post(url, {"starred": "0"}, headers=HX).content.decode()
    assert not Star.objects.exists() and 'aria-pressed="false"' in off


def test_star_without_javascript_redirects_back_to_the_image(logged_in, user):
    g = make_generation(user, files=False)
    response = logged_in.post(reverse("generations:star", args=[g.public_id]), {"starred": "1"})
    assert response["Location"] == reverse("generations:image", args=[g.public_id])
    assert 'aria-pressed="true"' in page(logged_in, g)


def test_nobody_can_star_or_delete_someone_elses_image(logged_in, make_user):
    theirs = make_generation(make_user())
    assert logged_in.post(reverse("generations:star", args=[theirs.public_id])).status_code == 404
    assert logged_in.post(reverse("generations:delete", args=[theirs.public_id])).status_code == 404
    assert Generation.objects.filter(pk=theirs.pk).exists() and not Star.objects.exists()


def test_delete_confirms_then_removes_the_image_and_its_files(logged_in, user, django_capture_on_commit_callbacks):
    g = make_generation(user)
    url = reverse("generations:delete", args=[g.public_id])
    assert f'action="{url}"' in page(logged_in, g), "the page's confirmation dialog posts to the delete view"
    confirm = logged_in.get(url)
    assert confirm.status_code == 200 and "Delete 1 image?" in confirm.content.decode()
    assert Generation.objects.filter(pk=g.pk).exists()
    files = [g.image_png, g.image_webp, g.thumbnail]
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url)
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Generation.objects.filter(pk=g.pk).exists()
    assert not any(default_storage.exists(name) for name in files)


def test_a_failed_image_explains_itself_and_notes_the_refund(logged_in, user):
    g = make_generation(user, stage=Stage.FAILED, error_message="Timed out before the image was finished.")
    content = page(logged_in, g)
    assert "This image could not be made" in content and "Timed out before the image was finished." in content
    assert "7 credits refunded" in content and 'data-download="png"' not in content


def test_an_unfinished_image_page_refreshes_itself_until_done(logged_in, user):
    g = make_generation(user, stage=Stage.RENDERING, progress=0.5)
    content = page(logged_in, g)
    assert 'hx-select="#image-page"' in content and "Rendering · 50%" in content
    done = make_generation(user)
    assert "hx-select" not in page(logged_in, done)
