"""Settings pages: API keys, credits and appearance.

Each view serves its full page, or for HTMX the fragment it swaps (django-htmx's
`request.htmx`), from the same template partials. Without JavaScript every action is a
plain form or link: revoking goes through a confirmation page instead of a dialog, the
ledger pages through links instead of "Load more".

A new key's raw value exists only in the response to the POST that created it: it is
never stored, never put in the session, and that response is marked `no-store` so the
back button cannot bring it back from the cache.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors, services
from accounts.forms import ApiKeyForm, PrivacyForm, ThemeForm
from accounts.models import ApiKey
from accounts.tiers import PRICE_PER_IMAGE
from accounts.typing import AuthedHttpRequest
from accounts.views_auth import safe_next
from studio.paging import BadCursor


def api_base_url(request: AuthedHttpRequest) -> str:
    """Where API clients point: the configured public URL, else this request's host."""
    if settings.STUDIO_PUBLIC_URL:
        return settings.STUDIO_PUBLIC_URL + "/v1"
    return request.build_absolute_uri("/v1")


def _render_keys(
    request: AuthedHttpRequest,
    *,
    form: ApiKeyForm | None = None,
    new_key: ApiKey | None = None,
    raw_key: str = "",
    notice: str = "",
) -> HttpResponse:
    active, revoked = selectors.api_keys(request.user)
    context: dict[str, Any] = {
        "form": form or ApiKeyForm(),
        "active_keys": active,
        "revoked_keys": revoked,
        "new_key": new_key,
        "raw_key": raw_key,
        "notice": notice,
        "api_base_url": api_base_url(request),
    }
    template = "accounts/partials/keys_panel.html" if request.htmx else "accounts/keys.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def keys(request: AuthedHttpRequest) -> HttpResponse:
    """List the user's API keys; POST creates one and shows its raw value this once."""
    if request.method == "GET":
        return _render_keys(request)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_keys(request, form=form)
    key, raw = services.create_api_key(user=request.user, name=form.cleaned_data["name"])
    return _render_keys(request, new_key=key, raw_key=raw)


@login_required
@require_http_methods(["GET", "POST"])
def revoke_key(request: AuthedHttpRequest, key_id: int) -> HttpResponse:
    """GET: the confirmation page (the dialog's no-JavaScript twin). POST: revoke the key."""
    key = selectors.api_key_for_user(request.user, key_id)
    if request.method == "GET":
        if not key.is_active:
            return redirect("accounts:keys")
        return render(request, "accounts/revoke_key.html", {"key": key})
    was_active = key.is_active
    services.revoke_api_key(key=key)
    notice = (
        f"Revoked “{key.name}”. Requests with it are now refused with 401 invalid_api_key."
        if was_active
        else f"“{key.name}” was already revoked."
    )
    if request.htmx:
        return _render_keys(request, notice=notice)
    messages.success(request, notice)
    return redirect("accounts:keys")


@login_required
@require_GET
def credits(request: AuthedHttpRequest) -> HttpResponse:
    """Balance, tier limits, price, and the ledger newest first; HTMX "Load more" gets the next rows."""
    try:
        page = selectors.ledger_page(request.user, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        messages.warning(request, "That page of the ledger no longer exists; here are the newest entries.")
        return redirect("accounts:credits")
    context = {"page": page, "is_later_page": bool(request.GET.get("cursor"))}
    if request.htmx and request.htmx.target == "ledger-more":
        response = render(request, "accounts/partials/ledger_rows.html", context)
    else:
        user = request.user
        user.refresh_from_db(fields=["credits", "tier"])
        context.update(
            tiers=selectors.tier_table(user),
            limits=user.limits,
            tier_label=user.get_tier_display(),
            price=PRICE_PER_IMAGE,
            images_left=user.credits // PRICE_PER_IMAGE,
        )
        response = render(request, "accounts/credits.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
def settings_home(request: AuthedHttpRequest) -> HttpResponse:
    return redirect("accounts:keys")


@login_required
@require_http_methods(["GET", "POST"])
def appearance(request: AuthedHttpRequest) -> HttpResponse:
    """The theme: GET shows the choice; POST saves it, then goes back to `next` (the top bar's
    switch) or to this page. A script that asks for JSON gets the saved theme instead."""
    if request.method == "GET":
        return render(request, "accounts/appearance.html", {"form": ThemeForm(initial={"theme": request.user.theme})})
    form = ThemeForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"error": "Choose light, dark or system."}, status=422)
        return render(request, "accounts/appearance.html", {"form": form}, status=422)
    services.set_theme(user=request.user, theme=form.cleaned_data["theme"])
    if _wants_json(request):
        return JsonResponse({"theme": request.user.theme})
    target = safe_next(request)
    if target:
        return redirect(target)
    messages.success(request, f"Theme saved: {request.user.get_theme_display().lower()}.")
    return redirect("accounts:appearance")


@login_required
@require_http_methods(["GET", "POST"])
def privacy(request: AuthedHttpRequest) -> HttpResponse:
    """Whether new images carry the prompt and parameters in their files. The Content Credentials
    (how the image was made) are always embedded, whatever this says."""
    if request.method == "GET":
        form = PrivacyForm(initial={"embed_parameters": request.user.embed_parameters})
        return render(request, "accounts/privacy.html", {"form": form})
    form = PrivacyForm(request.POST)
    form.is_valid()  # an unticked box is False, never an error
    services.set_embed_parameters(user=request.user, embed=form.cleaned_data.get("embed_parameters", False))
    embedded = "embedded in" if request.user.embed_parameters else "left out of"
    messages.success(request, f"Saved: prompts and parameters will be {embedded} new images' files.")
    return redirect("accounts:privacy")


def _wants_json(request: AuthedHttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
