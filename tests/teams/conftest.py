"""Fixtures of the teams pages' tests: olivia owns Poster Crew, eddie edits, vera views."""

from __future__ import annotations

import pytest

from accounts.models import Role, User
from tests.studio_factories import make_team


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def owner(client, make_user):
    user = make_user("olivia")
    User.objects.filter(pk=user.pk).update(email="olivia@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def crew(owner, make_user):
    """Poster Crew: olivia owns it, eddie edits, vera views."""
    make_user("eddie")
    make_user("vera")
    return make_team(owner, "Poster Crew", eddie=Role.EDITOR, vera=Role.VIEWER)
