"""Django admin: every model is registered, and each list page renders for staff."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from accounts.models import User
from tests.studio_factories import make_generation, make_team

OUR_APPS = ("accounts", "generations")


def test_every_model_of_ours_has_an_admin_page_or_inline():
    inlined = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    missing = [
        m.__name__
        for app in OUR_APPS
        for m in apps.get_app_config(app).get_models()
        if m not in admin.site._registry and m not in inlined
    ]
    assert missing == []


@pytest.mark.django_db
def test_each_admin_list_and_change_page_renders(client):
    staff = User.objects.create_superuser("root", "root@example.com", "pass-word-123")
    team = make_team(staff, "Admins")
    make_generation(staff, team=team)
    client.force_login(staff)
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        meta = model._meta
        listing = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert listing.status_code == 200, meta.label
        first = model.objects.first()
        if first is not None:
            page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
            assert page.status_code == 200, meta.label


@pytest.mark.django_db
def test_a_generation_cannot_be_deleted_or_moved_along_in_the_admin(client):
    staff = User.objects.create_superuser("root", "root@example.com", "pass-word-123")
    generation = make_generation(staff)
    client.force_login(staff)
    url = reverse("admin:generations_generation_delete", args=[generation.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    change = client.get(reverse("admin:generations_generation_change", args=[generation.pk]))
    assert b'name="stage"' not in change.content
