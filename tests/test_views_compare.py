"""Compare: two visible images side by side or under a slider, with the settings that differ."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from tests.studio_factories import make_generation, make_team


@pytest.fixture
def user(make_user):
    return make_user("cora")


def test_compare_shows_both_images_and_highlights_differences(logged_in, user):
    a = make_generation(user, prompt="Fox at dawn", style="watercolor", seed=1)
    b = make_generation(user, prompt="Fox at dusk", style="watercolor", seed=2, aspect_ratio="16:9")
    page = logged_in.get(f"/compare?a={a.public_id}&b={b.public_id}").content.decode()
    assert "Fox at dawn" in page and "Fox at dusk" in page
    assert page.count(f"/images/{a.public_id}") >= 1 and page.count(f"/images/{b.public_id}") >= 1
    assert ".webp" in page, "the images are the signed WebP links"
    found = re.findall(r'<tr class="(is-same|is-different)"[^>]*>\s*<th scope="row">([^<]+)', page)
    rows = {label.strip(): kind for kind, label in found}
    assert rows["Prompt"] == rows["Seed"] == rows["Size"] == rows["Aspect ratio"] == "is-different"
    assert rows["Style"] == rows["Model"] == "is-same"
    assert "4 settings differ" in page and "Show only differences (4)" in page
    assert "different sizes" in page, "differently sized images are fitted into one frame, and it says so"
    assert "data-compare-range" in page and 'data-mode="side"' in page


def test_compare_of_same_sized_images_has_no_size_note_and_slider_mode_is_kept(logged_in, user):
    a, b = make_generation(user), make_generation(user, seed=7)
    page = logged_in.get(f"/compare?a={a.public_id}&b={b.public_id}&mode=slider").content.decode()
    assert "different sizes" not in page and 'data-mode="slider"' in page


def test_a_team_members_image_can_be_compared(client, make_user, user):
    viewer = make_user("vic")
    team = make_team(user, "Crew", vic=Role.VIEWER)
    a, b = make_generation(user, team=team), make_generation(user, team=team)
    client.force_login(viewer)
    assert client.get(f"/compare?a={a.public_id}&b={b.public_id}").status_code == 200


def test_an_image_that_is_not_visible_is_404(logged_in, user, make_user):
    mine = make_generation(user)
    theirs = make_generation(make_user(), prompt="secret")
    assert logged_in.get(f"/compare?a={mine.public_id}&b={theirs.public_id}").status_code == 404
    assert logged_in.get(f"/compare?a={theirs.public_id}&b={mine.public_id}").status_code == 404
    assert logged_in.get(f"/compare?a={mine.public_id}").status_code == 404
    assert logged_in.get("/compare?a=gen_nope&b=gen_nada").status_code == 404


def test_selection_compare_with_two_redirects_to_compare(logged_in, user):
    a, b = make_generation(user), make_generation(user)
    response = logged_in.post("/selection", {"action": "compare", "ids": [b.public_id, a.public_id]})
    assert response.status_code == 302
    assert response["Location"] == f"/compare?a={b.public_id}&b={a.public_id}"


@pytest.mark.parametrize("count", [1, 3])
def test_selection_compare_with_other_than_two_explains(logged_in, user, count):
    ids = [make_generation(user).public_id for _ in range(count)]
    response = logged_in.post("/selection", {"action": "compare", "ids": ids, "next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert f"Select exactly two images to compare ({count} selected)." in response.content.decode()


def test_selection_compare_drops_an_invisible_id(logged_in, user, make_user):
    mine, theirs = make_generation(user), make_generation(make_user())
    response = logged_in.post("/selection", {"action": "compare", "ids": [mine.public_id, theirs.public_id]},
                              follow=True)  # fmt: skip
    assert "Select exactly two images" in response.content.decode()


def test_the_gallery_selection_bar_has_a_compare_button(logged_in, user):
    make_generation(user)
    assert 'value="compare"' in logged_in.get("/").content.decode()
