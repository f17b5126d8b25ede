"""Small helpers for the teams pages' tests."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Membership, Team, User


def member(team: Team, username: str) -> Membership:
    return Membership.objects.get(team=team, user__username=username)


def roles(team: Team) -> dict[str, str]:
    return dict(team.memberships.values_list("user__username", "role"))


def url(name: str, *args: object) -> str:
    return reverse(f"teams:{name}", args=args)


def as_user(client, username: str) -> User:
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


def toasts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]
