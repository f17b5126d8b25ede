"""Teams pages: the workspace switcher, teams, members, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import teams


def _next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@login_required
@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    """Work in another workspace (Personal or a team the user belongs to), then go to its studio."""
    workspace = teams.switch(request, request.POST.get("workspace", teams.PERSONAL))
    messages.info(request, f"Now working in {workspace.name}.")
    return redirect(_next(request, reverse("generations:studio")))
