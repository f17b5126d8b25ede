"""GET /v1/images: the caller's history, newest first, cursor-paged."""

import pytest

from tests.api_support import assert_error, generate, render
from tests.helpers import link_path


def submit(acct, n: int) -> list[str]:
    return [generate(acct, prompt=f"Poster number {i}").json()["task_id"] for i in range(n)]


def test_history_is_newest_first_in_the_get_shape_with_a_default_page_of_20(account):
    acct = account(tier="enterprise", credits=1000)
    ids = submit(acct, 22)
    render(ids[-1])
    page = acct.http.get("/images").json()
    assert [item["task_id"] for item in page["data"]] == ids[::-1][:20]
    assert page["has_more"] is True and page["next_cursor"]
    assert page["data"][0]["status"] == "completed" and link_path(page["data"][0]["image_url"]).endswith(".png")
    assert page["data"][1]["status"] == "processing" and "progress" in page["data"][1]
    assert page["data"][0] == acct.http.get(f"/images/{ids[-1]}").json() | {
        "image_url": page["data"][0]["image_url"],  # freshly signed each time
        "image_url_webp": page["data"][0]["image_url_webp"],
        "thumbnail_url": page["data"][0]["thumbnail_url"],
        "expires_at": page["data"][0]["expires_at"],
    }


def test_pages_do_not_shift_when_new_images_arrive(account):
    acct = account(tier="enterprise", credits=1000)
    ids = submit(acct, 5)
    first = acct.http.get("/images", params={"limit": 2}).json()
    assert [i["task_id"] for i in first["data"]] == [ids[4], ids[3]]
    submit(acct, 3)  # newer images arrive between page loads
    second = acct.http.get("/images", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["task_id"] for i in second["data"]] == [ids[2], ids[1]]
    last = acct.http.get("/images", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [i["task_id"] for i in last["data"]] == [ids[0]]
    assert last["has_more"] is False and last["next_cursor"] is None


def test_status_filter_returns_only_that_status(account):
    acct = account(credits=1000)
    done, waiting = submit(acct, 2)
    render(done)
    completed = acct.http.get("/images", params={"status": "completed"}).json()["data"]
    processing = acct.http.get("/images", params={"status": "processing"}).json()["data"]
    assert [i["task_id"] for i in completed] == [done]
    assert [i["task_id"] for i in processing] == [waiting]


def test_batch_items_in_history_name_their_batch(account):
    acct = account()
    batch = acct.http.post("/images/batch", json={"generations": [{"model": "seedream-5.0-lite", "prompt": "x"}]})
    (entry,) = acct.http.get("/images").json()["data"]
    assert entry["batch_id"] == batch.json()["batch_id"]


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"limit": "0"}, "invalid_limit", "limit"),
        ({"limit": "101"}, "invalid_limit", "limit"),
        ({"limit": "ten"}, "invalid_limit", "limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor", "cursor"),
        ({"status": "done"}, "invalid_status", "status"),
        ({"status": ""}, "invalid_status", "status"),  # outside the documented enum as well
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(account, params, code, words):
    acct = account()
    assert words in assert_error(acct.http.get("/images", params=params), 400, code)
