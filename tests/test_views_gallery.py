"""The gallery on `/`: history by cursor, infinite scroll, search and filters, and the selection bar."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts import ledger
from generations import services
from generations.models import Generation, Stage, Star
from generations.views.studio import PAGE_SIZE
from tests.helpers import spec
from tests.studio_factories import make_generation

STUDIO = "/"
SELECTION = "/selection"


def tile_ids(content: str) -> list[str]:
    return re.findall(r'<figure id="gen-(img_[0-9a-f]+)"', content)


def fragment(client, target: str, query: str = ""):
    return client.get(f"{STUDIO}{query}", headers={"HX-Request": "true", "HX-Target": target})


def test_history_is_newest_first_and_only_the_users_own(logged_in, user, make_user):
    old = make_generation(user, prompt="old")
    new = make_generation(user, prompt="new")
    make_generation(make_user(), prompt="someone else's")
    assert tile_ids(logged_in.get(STUDIO).content.decode()) == [new.public_id, old.public_id]


def test_thumbnails_not_full_images_are_in_the_grid_and_lazy(logged_in, user):
    g = make_generation(user)
    content = logged_in.get(STUDIO).content.decode()
    img = re.search(r'<img src="([^"]+)"[^>]*loading="lazy"', content)
    assert img, "a lazily loaded thumbnail"
    response = logged_in.get(img.group(1))
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content) == default_storage.open(g.thumbnail).read()


def test_infinite_scroll_pages_by_cursor_and_new_images_never_shift_a_page(logged_in, user):
    made = [make_generation(user, prompt=f"image {i}", files=False) for i in range(PAGE_SIZE + 5)]
    newest_first = [g.public_id for g in reversed(made)]
    first = logged_in.get(STUDIO).content.decode()
    assert tile_ids(first) == newest_first[:PAGE_SIZE]
    more = re.search(r'<div id="gallery-more" class="sentinel" hx-get="([^"]+)" hx-trigger="revealed"', first)
    assert more, "a sentinel that loads the next page when revealed"

    make_generation(user, prompt="arrived meanwhile", created_at=timezone.now(), files=False)
    url = more.group(1).replace("&amp;", "&")
    chunk = logged_in.get(url, headers={"HX-Request": "true", "HX-Target": "gallery-more"})
    content = chunk.content.decode()
    assert tile_ids(content) == newest_first[PAGE_SIZE:]
    assert "<html" not in content and 'id="gallery-more"' not in content
    assert "That's all of them." in content


def test_the_next_page_link_works_without_javascript(logged_in, user):
    made = [make_generation(user, files=False) for _ in range(PAGE_SIZE + 1)]
    first = logged_in.get(STUDIO).content.decode()
    link = re.search(r'<a class="btn btn-secondary" href="([^"]+)">Load older images</a>', first).group(1)
    page = logged_in.get(link.replace("&amp;", "&")).content.decode()
    assert "<html" in page and tile_ids(page) == [made[0].public_id]


def test_a_stale_cursor_is_a_clear_400_and_ends_the_scroll_quietly(logged_in):
    assert logged_in.get(f"{STUDIO}?cursor=garbage").status_code == 400
    quiet = fragment(logged_in, "gallery-more", "?cursor=garbage")
    assert quiet.status_code == 200 and quiet.content == b""


def test_search_finds_images_by_words_of_the_prompt(logged_in, user):
    fox = make_generation(user, prompt="A red fox in the snow", files=False)
    make_generation(user, prompt="A blue whale", files=False)
    both = make_generation(user, prompt="Fox and whale friends", files=False)
    assert tile_ids(logged_in.get(f"{STUDIO}?q=fox").content.decode()) == [both.public_id, fox.public_id]
    assert tile_ids(logged_in.get(f"{STUDIO}?q=FOX+snow").content.decode()) == [fox.public_id]
    empty = logged_in.get(f"{STUDIO}?q=zebra").content.decode()
    assert tile_ids(empty) == [] and "No images match" in empty


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("status=processing", ["queued"]),
        ("style=anime", ["anime"]),
        ("aspect_ratio=9%3A16", ["tall"]),
        ("starred=on", ["starred"]),
    ],
)
def test_filters_narrow_the_gallery(logged_in, user, query, expected):
    make_generation(user, prompt="failed", stage=Stage.FAILED)
    make_generation(user, prompt="queued", stage=Stage.QUEUED)
    make_generation(user, prompt="anime", style="anime", files=False)
    make_generation(user, prompt="tall", aspect_ratio="9:16", files=False)
    Star.objects.create(user=user, generation=make_generation(user, prompt="starred", files=False))
    content = logged_in.get(f"{STUDIO}?{query}").content.decode()
    # A pending tile's link says "Open: …"; a finished one's image opens the lightbox.
    prompts = re.findall(r'aria-label="(?:Open|View full size): ([^"]+)"', content)
    assert prompts == expected


def test_date_filters_are_inclusive_days(logged_in, user):
    today = timezone.localdate()
    at = timezone.now().replace(hour=12, minute=0)
    before = make_generation(user, prompt="before", created_at=at - timedelta(days=3), files=False)
    inside = make_generation(user, prompt="inside", created_at=at - timedelta(days=1), files=False)
    make_generation(user, prompt="today", created_at=at, files=False)
    day = (today - timedelta(days=1)).isoformat()
    assert tile_ids(logged_in.get(f"{STUDIO}?date_from={day}&date_to={day}").content.decode()) == [inside.public_id]
    upto = (today - timedelta(days=2)).isoformat()
    assert tile_ids(logged_in.get(f"{STUDIO}?date_to={upto}").content.decode()) == [before.public_id]


def test_an_end_date_before_the_start_is_explained(logged_in):
    content = logged_in.get(f"{STUDIO}?date_from=2030-01-05&date_to=2030-01-01").content.decode()
    assert "The end date is before the start date." in content


def test_the_filter_bar_gets_only_the_results_fragment_over_htmx(logged_in, user):
    make_generation(user, prompt="A red fox", files=False)
    response = fragment(logged_in, "gallery-results", "?q=fox")
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="gallery-results"')
    assert "<html" not in content and 'id="gen-form"' not in content
    assert len(tile_ids(content)) == 1
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_request_gets_the_full_page(logged_in):
    response = logged_in.get(
        STUDIO, headers={"HX-Request": "true", "HX-Target": "gallery-results", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_the_filter_bar_works_as_a_plain_get_form(logged_in):
    content = logged_in.get(STUDIO).content.decode()
    form = re.search(r'<form id="filters"[^>]*>', content).group(0)
    assert 'method="get"' in form and 'action="/"' in form
    assert 'hx-get="/"' in form and 'hx-push-url="true"' in form and 'hx-target="#gallery-results"' in form
    for name in ("q", "status", "style", "aspect_ratio", "starred", "date_from", "date_to"):
        assert f'name="{name}"' in content


# --- The selection bar -----------------------------------------------------------------------------


def test_star_and_unstar_a_selection(logged_in, user, make_user):
    mine = [make_generation(user, files=False) for _ in range(3)]
    theirs = make_generation(make_user(), files=False)
    ids = [g.public_id for g in mine[:2]] + [theirs.public_id]
    response = logged_in.post(SELECTION, {"action": "star", "ids": ids, "next": "/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/?q=x"
    assert set(Star.objects.values_list("generation_id", flat=True)) == {mine[0].pk, mine[1].pk}
    logged_in.post(SELECTION, {"action": "unstar", "ids": [mine[0].public_id]})
    assert set(Star.objects.values_list("generation_id", flat=True)) == {mine[1].pk}


def test_bulk_delete_asks_first_then_removes_rows_and_files(
    logged_in, user, make_user, django_capture_on_commit_callbacks
):
    a, b, keep = make_generation(user), make_generation(user), make_generation(user)
    theirs = make_generation(make_user())
    ids = [a.public_id, b.public_id, theirs.public_id]
    confirm = logged_in.post(SELECTION, {"action": "delete", "ids": ids})
    content = confirm.content.decode()
    assert confirm.status_code == 200 and "Delete 2 images?" in content
    assert Generation.objects.count() == 4, "nothing is deleted before the confirmation"
    with_files = [a.image_png, a.thumbnail, b.image_webp]
    with django_capture_on_commit_callbacks(execute=True):  # files go once the delete commits
        done = logged_in.post(SELECTION, {"action": "confirm_delete", "ids": ids, "next": "/"})
    assert done.status_code == 302
    assert set(Generation.objects.values_list("pk", flat=True)) == {keep.pk, theirs.pk}
    assert not any(default_storage.exists(name) for name in with_files)
    assert default_storage.exists(keep.image_png) and default_storage.exists(theirs.image_png)


def test_deleting_an_image_in_progress_cancels_and_refunds_it_first(logged_in, user):
    pending = services.submit(user=user, spec=spec()).generations[0]
    assert ledger.balance(user) == 43
    logged_in.post(SELECTION, {"action": "confirm_delete", "ids": [pending.public_id]})
    assert not Generation.objects.exists()
    assert ledger.balance(user) == 50 == ledger.ledger_total(user)
    assert user.ledger.filter(kind="refund", generation_public_id=pending.public_id).exists()


def test_an_empty_or_foreign_selection_changes_nothing(logged_in, make_user):
    theirs = make_generation(make_user(), files=False)
    response = logged_in.post(SELECTION, {"action": "confirm_delete", "ids": [theirs.public_id]}, follow=True)
    assert Generation.objects.filter(pk=theirs.pk).exists()
    assert "Select one or more images first." in response.content.decode()


def test_an_unknown_action_is_refused(logged_in):
    assert logged_in.post(SELECTION, {"action": "explode", "ids": ["img_x"]}).status_code == 400


def test_selection_actions_need_a_login_and_a_post(client, logged_in):
    assert logged_in.get(SELECTION).status_code == 405
    logged_in.logout()
    assert client.post(SELECTION, {"action": "star"}).status_code == 302
