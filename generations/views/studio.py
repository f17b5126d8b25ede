"""The studio page: the prompt form, the gallery, and the one poll that refreshes its pending tiles.

One view serves a page and its fragments (django-htmx's `request.htmx`): the filter bar
asks for `#gallery-results`, infinite scroll asks for `#gallery-more`, anything else
gets the full page. Posting the form answers HTMX with a fresh form plus the new tiles
(out of band), and a plain browser with a redirect back to `/` (post/redirect/get).

HTMX requests get status 200 even when the form has errors: htmx only swaps 2xx
answers by default, and a 4xx would also put a network error in the browser console.
A plain POST gets the honest status (422, 402, 429) with the page re-rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from accounts import ledger, teams
from accounts.permissions import Action, Forbidden
from accounts.typing import AuthedHttpRequest
from generations import forecast, links, selectors, services, specs
from generations.api import shapes
from generations.engines import is_offline_preview
from generations.forms import (
    DEFAULT_SETTINGS,
    MAX_COUNT,
    GalleryFilterForm,
    GenerationForm,
    settings_after_submit,
    settings_from_data,
    settings_from_generation,
    settings_summary,
)
from generations.models import Generation, Stage
from generations.review import selectors as review_selectors
from generations.worker import beats

PAGE_SIZE = 48
# At most this many tiles are refreshed by one poll (a page shows 48; infinite scroll adds more).
MAX_POLLED = 200
BATCHES_SHOWN = 3
LAST_SETTINGS = "studio.last_settings"
FROM_MODES = ("all", "remix", "seed")


def decorate(user: Any, generations: list[Generation]) -> list[Generation]:
    """Mark which of a page's tiles the user starred, how many open comments each has, and
    each pending one's place in line and time left (a few queries for the whole page)."""
    starred = selectors.starred_ids(user, generations)
    open_comments = selectors.open_comment_counts(generations)
    ahead = forecast.forecast(generations)
    unfinished = [g for g in generations if not g.is_finished]
    cancelable = {g.pk for g in selectors.allowed(user, unfinished, Action.GENERATE)} if unfinished else set()
    for g in generations:
        g.offline_preview = is_offline_preview(g.engine)
        g.can_cancel = not g.is_finished and (g.user_id == user.pk or g.pk in cancelable)
        g.starred = g.pk in starred
        g.open_comments = open_comments.get(g.pk, 0)
        if g.pk in ahead:
            g.eta, g.queue_position = ahead[g.pk].seconds_left, ahead[g.pk].position
    return generations


@dataclass(frozen=True)
class StripBatch(forecast.BatchProgress):
    """A batch in the strip: its progress, and whether the viewer may cancel what is left of it."""

    can_cancel: bool = False

    @property
    def unfinished(self) -> int:
        return self.total - self.finished


def batch_strip(workspace: teams.Workspace) -> list[StripBatch]:
    """The workspace's batches still in progress, each as a whole (newest first, a few)."""
    batches = selectors.batches_in_progress(workspace, limit=BATCHES_SHOWN)
    items = {batch.pk: selectors.batch_items(batch) for batch in batches}
    ahead = forecast.forecast(g for rows in items.values() for g in rows)
    strip = []
    for batch in batches:
        progress = forecast.batch_progress(batch, items[batch.pk], ahead)
        values = {f.name: getattr(progress, f.name) for f in fields(progress)}
        strip.append(StripBatch(**values, can_cancel=services.may_cancel_batch(workspace.user, batch)))
    return strip


def _ratio_options() -> list[dict[str, Any]]:
    longest = max(max(size) for size in specs.ASPECT_RATIOS.values())
    return [
        {"value": name, "width": w, "height": h, "w": round(w / longest, 3), "h": round(h / longest, 3),
         "uses": specs.ASPECT_RATIO_USES.get(name, "")}
        for name, (w, h) in specs.ASPECT_RATIOS.items()
    ]  # fmt: skip


def model_choices() -> list[dict[str, Any]]:
    """The configured models as GET /v1/models describes them (the one place that says what serves each)."""
    return [{**info, "offline": not info["neural"]} for info in shapes.models()["data"]]


def form_context(request: AuthedHttpRequest, form: GenerationForm, values: dict[str, Any]) -> dict[str, Any]:
    """What partials/form.html needs: the values shown, the errors, and the choices."""
    style = values.get("style") or specs.DEFAULT_STYLE
    models = model_choices()
    model = next((m for m in models if m["id"] == values.get("model")), models[0] if models else None)
    workspace = teams.current(request)
    return {
        "can_generate": workspace.can(Action.GENERATE),
        "form": form,
        "values": values,
        "ratios": _ratio_options(),
        "styles": [{"value": k, "label": k.replace("-", " ").capitalize(), "description": v} for k, v in specs.STYLES.items()],
        "custom_style": style if style not in specs.STYLES else "",
        "counts": range(1, MAX_COUNT + 1),
        "price": specs.PRICE_PER_IMAGE,
        "cost": specs.PRICE_PER_IMAGE * int(values.get("count") or 1),
        "balance": request.user.credits,
        "prompt_max": specs.PROMPT_MAX_LENGTH,
        "max_colors": specs.MAX_COLORS,
        "rendering_paused": not beats.alive("render"),
        "models": models,
        "model": model,
        "summary": settings_summary(values, price=specs.PRICE_PER_IMAGE),
        "defaults": DEFAULT_SETTINGS,
        "negative_max": specs.NEGATIVE_PROMPT_MAX_LENGTH,
        "more_open": bool(values.get("negative_prompt")) or values.get("seed_mode") == "fixed",
        "prompt_history": selectors.recent_prompts(workspace) if workspace.can(Action.GENERATE) else [],
    }  # fmt: skip


def initial_settings(request: AuthedHttpRequest) -> dict[str, Any]:
    """The form's starting values: from an earlier image (`?from=…&mode=…`), else the defaults.

    Earlier settings come back only when asked for ("Use all", "Remix", "Use seed"), never
    by themselves: a palette or a count left from last time would be spent unseen.
    """
    source = request.GET.get("from")
    if source:
        generation = selectors.generation_for_user(request.user, source)
        mode = request.GET.get("mode", "")
        mode = mode if mode in FROM_MODES else "all"
        return settings_from_generation(generation, mode, request.session.get(LAST_SETTINGS) or {})
    return dict(DEFAULT_SETTINGS)


def gallery_context(request: AuthedHttpRequest) -> dict[str, Any]:
    """The filter bar and one page of the current workspace's history for the query string."""
    filters = GalleryFilterForm(request.GET)
    filters.is_valid()
    workspace = teams.current(request)
    try:
        page = selectors.history(
            request.user,
            workspace=workspace,
            limit=PAGE_SIZE,
            cursor=request.GET.get("cursor") or None,
            **filters.history_filters(),
        )
    except selectors.BadCursor:
        page = None
    return {
        "filters": filters,
        "page": page,
        "generations": decorate(request.user, page.items) if page else [],
        "is_filtered": filters.is_filtered,
        "is_later_page": bool(request.GET.get("cursor")),
        "price": specs.PRICE_PER_IMAGE,
        "can_generate": workspace.can(Action.GENERATE),
    }


def _render_studio(
    request: AuthedHttpRequest, form: GenerationForm, values: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {**form_context(request, form, values), **gallery_context(request)}
    if context["page"] is None:
        return HttpResponseBadRequest("That page link is no longer valid; start from the first page.")
    context["board_choices"] = review_selectors.selection_boards(teams.current(request))
    context["batches"] = batch_strip(teams.current(request))
    response = render(request, "generations/studio.html", context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
@require_GET
def studio(request: AuthedHttpRequest) -> HttpResponse:
    """The prompt form and the gallery, or (for HTMX) a fragment of the gallery."""
    htmx = request.htmx
    if htmx and not htmx.history_restore_request and htmx.target in ("gallery-results", "gallery-more"):
        context = gallery_context(request)
        if context["page"] is None:
            # A stale cursor (the HTMX request cannot show an error page): end the scroll.
            return HttpResponse("")
        template = "results" if htmx.target == "gallery-results" else "page"
        response = render(request, f"generations/partials/gallery_{template}.html", context)
        patch_vary_headers(response, ["HX-Request", "HX-Target"])
        return response
    return _render_studio(request, GenerationForm(), initial_settings(request))


def _submit(request: AuthedHttpRequest, form: GenerationForm) -> services.Submitted:
    """Into the current workspace: a team's gallery when one is chosen (its editors and owners only)."""
    team = teams.current(request).team
    base_url = links.request_base_url(request)
    if form.image_count == 1:
        return services.submit(user=request.user, spec=form.spec, team=team, public_base_url=base_url)
    return services.submit_batch(user=request.user, specs_=form.specs_to_submit(), team=team, public_base_url=base_url)


@login_required
@require_POST
def create(request: AuthedHttpRequest) -> HttpResponse:
    """Submit the prompt form: new tiles and a fresh form (HTMX), or redirect back to `/`."""
    form = GenerationForm(request.POST)
    status = 422
    submitted = None
    if form.is_valid():
        try:
            submitted = _submit(request, form)
        except Forbidden as exc:
            form.add_error(None, str(exc))
            status = 403
        except services.InsufficientCredits as exc:
            form.add_error(None, f"{exc}. {ledger.how_to_get_more(request.user)}")
            status = 402
        except services.RateLimited as exc:
            form.add_error(None, str(exc))
            status = 429
        except services.BatchTooLarge as exc:
            form.add_error(None, str(exc))
    values = settings_from_data(request.POST)
    if submitted is None:
        if request.htmx:
            return render(request, "generations/partials/form.html", form_context(request, form, values))
        return _render_studio(request, form, values, status=status)

    # The fresh form keeps the prompt and the visible choices; the rest returns to defaults.
    values = settings_after_submit(values)
    request.session[LAST_SETTINGS] = values
    if request.htmx:
        context = {
            **form_context(request, GenerationForm(), values),
            "just_created": True,
            "new_generations": decorate(request.user, submitted.generations),
            "balance": submitted.credits_remaining,
            "batches": batch_strip(teams.current(request)) if submitted.batch else None,
        }
        return render(request, "generations/partials/created.html", context)
    count = len(submitted.generations)
    messages.success(request, f"Generating {count} image{'s' if count > 1 else ''}. They will appear below.")
    return redirect("generations:studio")


@login_required
@require_GET
def tiles(request: AuthedHttpRequest) -> HttpResponse:
    """The gallery's one poll, every second while any tile is pending: fresh copies of the
    pending tiles it names (`?pending=<task id>`, repeated), out of band, with their place
    in line and time left, plus the batch strip when the page has one (`?batches=1`).

    A tile whose image was deleted meanwhile (in another tab), or is no longer shared,
    comes back saying so and stops polling; it reads the same for an id that never
    existed, so it tells a stranger nothing.
    """
    if not request.htmx:
        return redirect("generations:studio")
    wanted = list(dict.fromkeys(request.GET.getlist("pending")))[:MAX_POLLED]
    found = decorate(request.user, selectors.generations_for_user(request.user, wanted))
    by_id = {g.public_id: g for g in found}
    context = {
        "tiles": [(public_id, by_id.get(public_id)) for public_id in wanted],
        "refresh_balance": any(g.stage in (Stage.FAILED, Stage.CANCELED) for g in found),
        "balance": request.user.credits,
        "batches": batch_strip(teams.current(request)) if request.GET.get("batches") else None,
    }
    return render(request, "generations/partials/tiles_poll.html", context)
