"""The studio's batch strip: its "Cancel batch" button and what pressing it does."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts import ledger, teams
from accounts.models import Role
from generations import services
from generations.models import Batch, Generation, Stage
from tests.helpers import spec
from tests.studio_factories import make_team

HX = {"HX-Request": "true"}


@pytest.fixture
def user(make_user):
    return make_user("maker", tier="pro", credits=100)


def submit_batch(user, count: int = 3, team=None) -> Batch:
    submitted = services.submit_batch(user=user, specs_=[spec(prompt=f"Poster {i}") for i in range(count)], team=team)
    assert submitted.batch is not None
    return submitted.batch


def cancel_url(batch: Batch) -> str:
    return reverse("generations:batch_cancel", args=[batch.public_id])


def strip(content: str) -> str:
    return re.search(r'<div id="gallery-batches".*?</div>\s*</div>\s*</div>', content, re.S).group(0)


def test_the_strip_offers_cancel_batch_as_a_confirmed_htmx_post_with_a_plain_form_behind_it(logged_in, user):
    batch = submit_batch(user)
    Generation.objects.filter(batch=batch, batch_index=0).update(stage=Stage.COMPLETED, progress=1.0)

    shown = strip(logged_in.get("/").content.decode())

    assert "Cancel batch" in shown
    assert f'hx-post="{cancel_url(batch)}"' in shown and f'action="{cancel_url(batch)}"' in shown
    assert 'method="post"' in shown and "csrfmiddlewaretoken" in shown
    assert 'hx-confirm="Cancel the 2 unfinished images of this batch?' in shown


def test_cancel_batch_refunds_the_rest_and_answers_the_strip_tiles_pill_and_a_note(logged_in, user):
    batch = submit_batch(user)  # 3 x 7 credits
    done, rendering, queued = batch.generations.order_by("batch_index")
    Generation.objects.filter(pk=done.pk).update(stage=Stage.COMPLETED, progress=1.0)
    Generation.objects.filter(pk=rendering.pk).update(stage=Stage.RENDERING, progress=0.3, attempts=1)

    response = logged_in.post(cancel_url(batch), headers=HX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Canceled 2 images · 14 credits refunded" in content
    # The batch is finished, so the strip it answers no longer lists it.
    assert f'data-batch="{batch.public_id}"' not in content
    for g in (rendering, queued):
        tile = re.search(rf'<figure id="gen-{g.public_id}".*?</figure>', content, re.S).group(0)
        assert 'hx-swap-oob="true"' in tile and "Canceled" in tile
    assert f'id="gen-{done.public_id}"' not in content
    pill = re.search(r'<a [^>]*id="credits-pill".*?</a>', content, re.S).group(0)
    assert 'hx-swap-oob="true"' in pill and 'data-balance="93"' in pill
    assert ledger.balance(user) == 93 == ledger.ledger_total(user)
    assert Batch.objects.get(pk=batch.pk).finished_at is not None


def test_cancelling_again_changes_nothing_and_says_so(logged_in, user):
    batch = submit_batch(user)
    logged_in.post(cancel_url(batch), headers=HX)

    again = logged_in.post(cancel_url(batch), headers=HX).content.decode()

    assert "nothing to cancel" in again
    assert ledger.balance(user) == 100 == ledger.ledger_total(user)


def test_without_javascript_the_form_redirects_to_the_studio_with_the_note(logged_in, user):
    batch = submit_batch(user, count=2)

    response = logged_in.post(cancel_url(batch), follow=True)

    assert response.redirect_chain == [(reverse("generations:studio"), 302)]
    assert "Canceled 2 images · 14 credits refunded" in response.content.decode()


def test_a_team_viewer_sees_no_button_and_is_refused_with_403(client, user, make_user):
    viewer = make_user("watcher")
    team = make_team(user, watcher=Role.VIEWER)
    batch = submit_batch(user, team=team)
    client.force_login(viewer)
    session = client.session
    session[teams.SESSION_KEY] = team.public_id
    session.save()

    page = client.get("/").content.decode()
    assert f'data-batch="{batch.public_id}"' in page and "Cancel batch" not in page
    assert client.post(cancel_url(batch), headers=HX).status_code == 403
    assert set(batch.generations.values_list("stage", flat=True)) == {Stage.QUEUED}
    assert ledger.balance(user) == 100 - 21


def test_someone_elses_batch_is_a_404(client, user, make_user):
    batch = submit_batch(user)
    client.force_login(make_user("stranger"))

    assert client.post(cancel_url(batch), headers=HX).status_code == 404
    assert set(batch.generations.values_list("stage", flat=True)) == {Stage.QUEUED}
