"""Boards: making, renaming and deleting them, putting images on them, their pages and their ZIPs."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.test import RequestFactory
from PIL import Image

from accounts import teams
from accounts.models import Role
from generations import exports
from generations.models import Board, BoardItem, ReviewStatus, Stage
from generations.review import selectors as review_selectors
from generations.review import services as review
from tests.studio_factories import make_generation, make_team

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def owner(make_user):
    return make_user("olive")


@pytest.fixture
def client_for(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


@pytest.fixture
def team_setup(owner, make_user):
    """A team with an editor and a viewer, and a board holding three of its images."""
    editor, viewer = make_user("eddie"), make_user("vera")
    team = make_team(owner, "Poster Crew", eddie=Role.EDITOR, vera=Role.VIEWER)
    gens = [make_generation(owner, team=team, prompt=f"Poster {i}", colors=[c])
            for i, c in enumerate(["#ff0000", "#00ff00", "#0000ff"])]  # fmt: skip
    gens[0].review_status = ReviewStatus.APPROVED
    gens[0].save(update_fields=["review_status"])
    gens[1].review_status = ReviewStatus.REJECTED
    gens[1].save(update_fields=["review_status"])
    board = review.create_board(workspace=teams.workspace_of_team(owner, team), name="Spring")
    review.add_to_board(user=owner, board=board, generations=gens)
    return {"team": team, "editor": editor, "viewer": viewer, "gens": gens, "board": board}


def _use_team(client, team):
    session = client.session
    session[teams.SESSION_KEY] = team.public_id
    session.save()


def _zip_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    for name in archive.namelist():
        data = archive.read(name)
        assert name.endswith(".png") and data.startswith(PNG_MAGIC)
        Image.open(io.BytesIO(data)).verify()
    return archive


def _png_names(archive: zipfile.ZipFile, gens) -> set[str]:
    """Which of `gens` the archive holds, matched by the bytes of their PNGs."""
    contents = {archive.read(n) for n in archive.namelist()}
    return {g.prompt for g in gens if default_storage.open(g.image_png).read() in contents}


# --- Making, renaming, deleting --------------------------------------------------------------


def test_boards_page_lists_the_workspace_boards_with_counts_and_covers(client_for, owner, team_setup):
    c = client_for(owner)
    _use_team(c, team_setup["team"])
    page = c.get("/boards").content.decode()
    assert "Spring" in page and "3 images" in page and "1 approved" in page
    assert page.count("/files/") >= 3, "the cover mosaic shows thumbnails"
    assert 'action="/boards/new"' in page


def test_an_empty_boards_page_explains_boards(client_for, owner):
    page = client_for(owner).get("/boards").content.decode()
    assert "No boards yet" in page and "A board is a named set of images" in page


def test_create_a_board_in_the_current_workspace(client_for, owner):
    response = client_for(owner).post("/boards/new", {"name": "  Logos  "})
    board = Board.objects.get()
    assert board.name == "Logos" and board.team is None and board.user == owner
    assert response.status_code == 302 and response["Location"] == f"/boards/{board.public_id}"


def test_a_board_without_a_name_is_refused_with_a_message(client_for, owner):
    response = client_for(owner).post("/boards/new", {"name": "  "}, follow=True)
    assert not Board.objects.exists()
    assert "Give the board a name." in response.content.decode()


def test_new_board_from_an_image_page_holds_that_image_and_goes_back(client_for, owner):
    g = make_generation(owner)
    response = client_for(owner).post("/boards/new", {"name": "Shortlist", "ids": [g.public_id],
                                                      "next": f"/images/{g.public_id}"})  # fmt: skip
    assert response["Location"] == f"/images/{g.public_id}"
    assert list(Board.objects.get(name="Shortlist").generations.all()) == [g]


def test_rename_and_delete_a_board_keeps_its_images(client_for, owner, team_setup):
    c, board = client_for(owner), team_setup["board"]
    c.post(f"/boards/{board.public_id}/rename", {"name": "Summer"})
    board.refresh_from_db()
    assert board.name == "Summer"
    response = c.post(f"/boards/{board.public_id}/delete")
    assert response["Location"] == "/boards"
    assert not Board.objects.filter(pk=board.pk).exists()
    assert all(type(g).objects.filter(pk=g.pk).exists() for g in team_setup["gens"])


def test_delete_confirmation_without_javascript_opens_the_dialog(client_for, owner, team_setup):
    board = team_setup["board"]
    page = client_for(owner).get(f"/boards/{board.public_id}/delete").content.decode()
    assert re.search(r'<dialog[^>]*id="delete-board"[^>]* open', page)
    assert Board.objects.filter(pk=board.pk).exists()


# --- Items ---------------------------------------------------------------------------------


def test_add_and_remove_items(client_for, owner):
    c = client_for(owner)
    a, b = make_generation(owner), make_generation(owner)
    board = review.create_board(workspace=teams.personal(owner), name="Mine")
    url = f"/boards/{board.public_id}/items"
    response = c.post(url, {"action": "add", "ids": [a.public_id, b.public_id], "next": "/"}, follow=True)
    assert set(board.generations.all()) == {a, b}
    assert "Added 2 images to “Mine”." in response.content.decode()
    c.post(url, {"action": "remove", "ids": [a.public_id]})
    assert list(board.generations.all()) == [b]


def test_the_selection_bar_adds_to_a_board(client_for, owner):
    c = client_for(owner)
    a, b = make_generation(owner), make_generation(owner)
    board = review.create_board(workspace=teams.personal(owner), name="Mine")
    page = c.get("/").content.decode()
    assert f'<option value="{board.public_id}">Mine</option>' in page and 'value="add_to_board"' in page
    response = c.post("/selection", {"action": "add_to_board", "board": board.public_id,
                                     "ids": [a.public_id, b.public_id], "next": "/?q=x"})  # fmt: skip
    assert response["Location"] == "/?q=x"
    assert set(board.generations.all()) == {a, b}


def test_the_board_pages_selection_bar_removes_from_the_board(client_for, owner, team_setup):
    c, board, gens = client_for(owner), team_setup["board"], team_setup["gens"]
    page = c.get(f"/boards/{board.public_id}").content.decode()
    assert f'formaction="/boards/{board.public_id}/items"' in page and 'value="remove"' in page
    c.post(f"/boards/{board.public_id}/items", {"action": "remove", "ids": [gens[0].public_id]})
    assert set(board.generations.all()) == set(gens[1:])


def test_images_of_another_workspace_are_not_added(client_for, owner, team_setup):
    c, board = client_for(owner), team_setup["board"]
    personal_image = make_generation(owner, prompt="personal one")
    response = c.post(f"/boards/{board.public_id}/items", {"action": "add", "ids": [personal_image.public_id]},
                      follow=True)  # fmt: skip
    assert not board.items.filter(generation=personal_image).exists()
    assert "Added 0 images" in response.content.decode()


def test_someone_elses_image_id_is_dropped(client_for, owner, make_user):
    stranger_image = make_generation(make_user(), prompt="theirs")
    board = review.create_board(workspace=teams.personal(owner), name="Mine")
    client_for(owner).post(f"/boards/{board.public_id}/items", {"action": "add", "ids": [stranger_image.public_id]})
    assert not board.items.exists()


# --- The board page --------------------------------------------------------------------------


def test_board_page_shows_tiles_and_filters_by_review(client_for, owner, team_setup):
    c, board, gens = client_for(owner), team_setup["board"], team_setup["gens"]
    page = c.get(f"/boards/{board.public_id}").content.decode()
    assert all(f'id="gen-{g.public_id}"' in page for g in gens)
    assert "Download approved (1)" in page and f"/boards/{board.public_id}/download?review=approved" in page
    approved = c.get(f"/boards/{board.public_id}?review=approved").content.decode()
    assert f'id="gen-{gens[0].public_id}"' in approved
    assert f'id="gen-{gens[1].public_id}"' not in approved and f'id="gen-{gens[2].public_id}"' not in approved
    pending = c.get(f"/boards/{board.public_id}?review=pending").content.decode()
    assert [g.public_id for g in gens if f'id="gen-{g.public_id}"' in pending] == [gens[2].public_id]


def test_an_empty_board_says_how_to_fill_it(client_for, owner):
    board = review.create_board(workspace=teams.personal(owner), name="Blank")
    page = client_for(owner).get(f"/boards/{board.public_id}").content.decode()
    assert "This board is empty" in page and "Add to board" in page


# --- Downloads -------------------------------------------------------------------------------


def test_download_holds_exactly_the_boards_pngs(client_for, owner, team_setup):
    gens = team_setup["gens"]
    make_generation(owner, team=team_setup["team"], prompt="not on the board")
    make_generation(owner, team=team_setup["team"], stage=Stage.RENDERING)
    board = team_setup["board"]
    response = client_for(owner).get(f"/boards/{board.public_id}/download")
    assert re.match(r'attachment; filename="spring-3-images\.zip"', response["Content-Disposition"])
    archive = _zip_of(response)
    assert len(archive.namelist()) == 3
    assert _png_names(archive, gens) == {g.prompt for g in gens}


def test_download_approved_holds_only_the_approved(client_for, owner, team_setup):
    board, gens = team_setup["board"], team_setup["gens"]
    response = client_for(owner).get(f"/boards/{board.public_id}/download?review=approved")
    assert response["Content-Disposition"] == 'attachment; filename="spring-approved-1-image.zip"'
    archive = _zip_of(response)
    assert len(archive.namelist()) == 1 and _png_names(archive, gens) == {gens[0].prompt}


def test_download_with_nothing_finished_goes_back_with_a_message(client_for, owner):
    board = review.create_board(workspace=teams.personal(owner), name="Waiting")
    pending = make_generation(owner, stage=Stage.QUEUED)
    review.add_to_board(user=owner, board=board, generations=[pending])
    response = client_for(owner).get(f"/boards/{board.public_id}/download", follow=True)
    assert response.redirect_chain[-1][0] == f"/boards/{board.public_id}"
    assert "nothing to download" in response.content.decode()


def test_a_large_board_becomes_an_export(client_for, owner, monkeypatch):
    monkeypatch.setattr(exports, "STREAM_LIMIT", 1)
    monkeypatch.setattr("generations.tasks.build_export.delay", lambda pk: None)
    board = review.create_board(workspace=teams.personal(owner), name="Big")
    review.add_to_board(user=owner, board=board, generations=[make_generation(owner) for _ in range(2)])
    response = client_for(owner).get(f"/boards/{board.public_id}/download")
    assert response.status_code == 302 and response["Location"].startswith("/exports/")


# --- Roles and strangers ---------------------------------------------------------------------


def test_viewer_can_see_and_download_but_not_edit(client_for, team_setup):
    c, board, gens = client_for(team_setup["viewer"]), team_setup["board"], team_setup["gens"]
    _use_team(c, team_setup["team"])
    page = c.get(f"/boards/{board.public_id}").content.decode()
    assert "Rename" not in page and "Delete…</a>" not in page and 'value="remove"' not in page
    assert 'value="add_to_board"' not in page
    assert _zip_of(c.get(f"/boards/{board.public_id}/download"))
    assert "New board" not in c.get("/boards").content.decode()
    other = make_generation(team_setup["editor"], team=team_setup["team"])
    refused = [
        c.post("/boards/new", {"name": "Mine"}),
        c.post(f"/boards/{board.public_id}/rename", {"name": "Hacked"}),
        c.post(f"/boards/{board.public_id}/delete"),
        c.get(f"/boards/{board.public_id}/delete"),
        c.post(f"/boards/{board.public_id}/items", {"action": "add", "ids": [other.public_id]}),
        c.post(f"/boards/{board.public_id}/items", {"action": "remove", "ids": [gens[0].public_id]}),
        c.post("/selection", {"action": "add_to_board", "board": board.public_id, "ids": [other.public_id]}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    board.refresh_from_db()
    assert board.name == "Spring" and Board.objects.count() == 1
    assert set(board.generations.all()) == set(gens)


def test_editor_can_edit_a_team_board(client_for, team_setup):
    c, board = client_for(team_setup["editor"]), team_setup["board"]
    mine = make_generation(team_setup["editor"], team=team_setup["team"])
    c.post(f"/boards/{board.public_id}/items", {"action": "add", "ids": [mine.public_id]})
    assert board.items.filter(generation=mine).exists()


def test_non_member_gets_404_everywhere(client_for, make_user, team_setup):
    c, board, gens = client_for(make_user("stranger")), team_setup["board"], team_setup["gens"]
    base = f"/boards/{board.public_id}"
    responses = [
        c.get(base), c.get(f"{base}/download"), c.get(f"{base}/delete"), c.post(f"{base}/delete"),
        c.post(f"{base}/rename", {"name": "x"}), c.post(f"{base}/items", {"action": "add", "ids": [gens[0].public_id]}),
    ]  # fmt: skip
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert Board.objects.filter(pk=board.pk, name="Spring").exists() and board.items.count() == 3
    assert board.public_id not in c.get("/boards").content.decode()


def test_someone_elses_personal_board_is_404(client_for, owner, make_user):
    board = review.create_board(workspace=teams.personal(owner), name="Private")
    c = client_for(make_user())
    assert c.get(f"/boards/{board.public_id}").status_code == 404
    assert c.post("/selection", {"action": "add_to_board", "board": board.public_id,
                                 "ids": [make_generation(owner).public_id]}).status_code in (302, 404)  # fmt: skip
    assert not BoardItem.objects.exists()


@pytest.mark.parametrize(
    "method, path",
    [("get", "/boards"), ("post", "/boards/new"), ("get", "/boards/board_x"), ("get", "/boards/board_x/download"),
     ("post", "/boards/board_x/items"), ("post", "/boards/board_x/rename"), ("post", "/boards/board_x/delete"),
     ("get", "/compare?a=x&b=y")],
)  # fmt: skip
def test_anonymous_is_sent_to_log_in(client, method, path, db):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login")


# --- The image page's Boards card ------------------------------------------------------------


def test_image_boards_partial_lists_boards_and_offers_adding(owner, team_setup):
    g = team_setup["gens"][2]
    other = review.create_board(workspace=teams.workspace_of_team(owner, team_setup["team"]), name="Autumn")
    on, off = review_selectors.boards_for_generation(owner, g)
    request = RequestFactory().get(f"/images/{g.public_id}")
    request.user, request.session = owner, {}
    html = render_to_string("generations/partials/image_boards.html",
                            {"g": g, "boards_on": on, "boards_other": off, "can_edit_boards": True,
                             "older": team_setup["gens"][1]}, request=request)  # fmt: skip
    assert f'href="/boards/{team_setup["board"].public_id}"' in html and "Remove" in html
    assert f'<option value="{other.public_id}">Autumn</option>' in html and 'value="add_to_board"' in html
    assert "New board" in html and f"/compare?a={g.public_id}&amp;b={team_setup['gens'][1].public_id}" in html
    viewer_html = render_to_string("generations/partials/image_boards.html",
                                   {"g": g, "boards_on": on, "boards_other": off, "can_edit_boards": False},
                                   request=request)  # fmt: skip
    assert "Remove" not in viewer_html and "add_to_board" not in viewer_html and "New board" not in viewer_html
