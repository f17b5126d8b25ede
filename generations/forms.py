"""The studio's forms: the prompt form and the gallery's filter bar.

`GenerationForm` holds no rules of its own: `clean` builds the same raw dict an API
request carries and hands it to `specs.build_spec`, so a prompt that the API refuses is
refused here with the same message, shown beside the field it concerns.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from generations import specs
from generations.models import Generation

MAX_COUNT = 4
SEED_RANDOM = "random"
SEED_FIXED = "fixed"
# The form's fields, in the order they appear; what the session keeps as "last settings".
SETTING_FIELDS = (
    "prompt", "negative_prompt", "model", "aspect_ratio", "style", "colors", "deep_thinking", "seed_mode", "seed",
    "count",
)  # fmt: skip
DEFAULT_SETTINGS: dict[str, Any] = {
    "prompt": "",
    "negative_prompt": "",
    "model": specs.DEFAULT_MODEL,
    "aspect_ratio": specs.DEFAULT_ASPECT_RATIO,
    "style": specs.DEFAULT_STYLE,
    "colors": [],
    "deep_thinking": False,
    "seed_mode": SEED_RANDOM,
    "seed": "",
    "count": 1,
}
# What stays in the form after a generation: the prompt and the choices shown at its top.
# Everything else (palette, deep thinking, count, seed, negative prompt) goes back to its
# default, so nothing carries over unseen; "Use all" / "Remix" restore an image's settings.
KEPT_AFTER_SUBMIT = ("prompt", "model", "aspect_ratio", "style")
_SPLIT_COLORS = re.compile(r"[\s,;]+")


class ColorListWidget(forms.Widget):
    """Colour pickers named `colors` (one value each), plus the no-JS text field `colors_text`."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = list(data.getlist(name)) if hasattr(data, "getlist") else list(data.get(name) or [])
        text = data.get(f"{name}_text") or ""
        values += [part for part in _SPLIT_COLORS.split(text) if part]
        return [v.strip() for v in values if v.strip()]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


class ColorListField(forms.Field):
    """A list of colour strings; their rule (hex, at most eight) is checked by specs."""

    widget = ColorListWidget

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            return [part for part in _SPLIT_COLORS.split(value) if part]
        return list(value)


class GenerationForm(forms.Form):
    """The prompt form. Valid means `specs.build_spec` accepted it; `spec` is the result."""

    prompt = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    negative_prompt = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    model = forms.CharField(required=False)
    aspect_ratio = forms.CharField(required=False)
    style = forms.CharField(required=False)
    colors = ColorListField(required=False)
    deep_thinking = forms.BooleanField(required=False)
    seed_mode = forms.ChoiceField(
        choices=[(SEED_RANDOM, "Random"), (SEED_FIXED, "Fixed")], required=False, initial=SEED_RANDOM
    )
    seed = forms.CharField(required=False)
    count = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, MAX_COUNT + 1)], coerce=int, initial=1, required=False
    )

    spec: specs.Spec

    def clean_count(self) -> int:
        return self.cleaned_data.get("count") or 1

    def _raw_seed(self) -> Any:
        """The seed as the API would receive it: None for random, else an int (or the bad text)."""
        if self.cleaned_data.get("seed_mode") != SEED_FIXED:
            return None
        text = (self.cleaned_data.get("seed") or "").strip()
        if not text:
            raise specs.SpecError("invalid_seed", "seed", "Enter a seed, or choose Random.")
        return int(text) if re.fullmatch(r"\d{1,20}", text) else text

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        try:
            raw = {
                "model": data.get("model") or None,
                "prompt": data.get("prompt", ""),
                "negative_prompt": data.get("negative_prompt") or None,
                "aspect_ratio": data.get("aspect_ratio") or None,
                "style": data.get("style") or None,
                "colors": data.get("colors") or None,
                "deep_thinking": bool(data.get("deep_thinking")),
                "seed": self._raw_seed(),
            }
            self.spec = specs.build_spec(raw, require_model=False)
        except specs.SpecError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    @property
    def image_count(self) -> int:
        return self.cleaned_data.get("count") or 1

    def specs_to_submit(self) -> list[specs.Spec]:
        """One spec per image asked for. A fixed seed counts up (seed, seed + 1, …), so several
        images of one request are never the same picture paid for twice; each stays reproducible."""
        if self.spec.seed is None:
            return [self.spec] * self.image_count
        return [
            dataclasses.replace(self.spec, seed=(self.spec.seed + i) % (specs.SEED_MAX + 1))
            for i in range(self.image_count)
        ]

    def settings(self) -> dict[str, Any]:
        """The submitted settings, JSON-safe, to refill the form next time."""
        return settings_from_data(self.data)


def settings_from_data(data: Any) -> dict[str, Any]:
    """Last settings from raw POST data, whether or not they were valid (to redisplay them)."""
    form = GenerationForm(data)
    values = dict(DEFAULT_SETTINGS)
    for name in SETTING_FIELDS:
        field = form.fields[name]
        raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        values[name] = raw
    values["deep_thinking"] = bool(values["deep_thinking"])
    values["count"] = int(values["count"]) if str(values["count"] or "").isdigit() else 1
    values["colors"] = list(values["colors"] or [])
    for name in ("prompt", "negative_prompt", "model", "aspect_ratio", "style", "seed_mode", "seed"):
        values[name] = values[name] or DEFAULT_SETTINGS[name]
    return values


def settings_after_submit(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values once a generation went in: defaults but for `KEPT_AFTER_SUBMIT`."""
    return {**DEFAULT_SETTINGS, **{name: values[name] for name in KEPT_AFTER_SUBMIT if name in values}}


def settings_summary(values: dict[str, Any], *, price: int) -> dict[str, Any]:
    """The active settings in words, as the line beside Generate shows them (form.js keeps it live)."""
    style = str(values.get("style") or specs.DEFAULT_STYLE)
    count = int(values.get("count") or 1)
    colors = list(values.get("colors") or [])
    return {
        "ratio": values.get("aspect_ratio") or specs.DEFAULT_ASPECT_RATIO,
        "style": style.replace("-", " ").capitalize() if style in specs.STYLES else f"“{style[:24]}”",
        "colors": colors,
        "palette": f"{len(colors)} colour{'s' if len(colors) != 1 else ''}" if colors else "no palette",
        "deep_thinking": "deep thinking on" if values.get("deep_thinking") else "deep thinking off",
        "count": f"{count} image{'s' if count != 1 else ''}",
        "seed": f"seed {values.get('seed')}" if values.get("seed_mode") == SEED_FIXED and values.get("seed") else "",
        "avoid": bool(values.get("negative_prompt")),
        "model": values.get("model") or specs.DEFAULT_MODEL,
        "cost": price * count,
    }


def settings_from_generation(generation: Generation, mode: str, last: dict[str, Any] | None = None) -> dict[str, Any]:
    """Form settings taken from an earlier image.

    `all`: every setting including the seed; `remix`: all but the seed (random again);
    `seed`: only the seed, on top of the user's last settings.
    """
    if mode == "seed":
        values = {**DEFAULT_SETTINGS, **(last or {})}
    else:
        values = {
            **DEFAULT_SETTINGS,
            "prompt": generation.prompt,
            "negative_prompt": generation.negative_prompt,
            "model": generation.model,
            "aspect_ratio": generation.aspect_ratio,
            "style": generation.style,
            "colors": list(generation.colors),
            "deep_thinking": generation.deep_thinking,
        }
    if mode in ("all", "seed"):
        values.update(seed_mode=SEED_FIXED, seed=str(generation.seed))
    else:
        values.update(seed_mode=SEED_RANDOM, seed="")
    return values


class GalleryFilterForm(forms.Form):
    """The gallery's filter bar. Works as a plain GET form and through HTMX alike."""

    q = forms.CharField(required=False, max_length=200, label="Search prompts")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), ("completed", "Completed"), ("processing", "In progress"), ("failed", "Failed"),
                 ("canceled", "Canceled")],
    )  # fmt: skip
    style = forms.ChoiceField(
        required=False, choices=[("", "Any style")] + [(k, k.replace("-", " ").capitalize()) for k in specs.STYLES]
    )
    aspect_ratio = forms.ChoiceField(
        required=False, choices=[("", "Any ratio")] + [(k, k) for k in specs.ASPECT_RATIOS]
    )
    review = forms.ChoiceField(
        required=False,
        choices=[("", "Any review"), ("pending", "Needs review"), ("approved", "Approved"), ("rejected", "Rejected")],
    )
    starred = forms.BooleanField(required=False, label="Starred only")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Search prompts", "aria-label": "Search prompts", "data-search": "",
                   "autocomplete": "off"}
        )  # fmt: skip
        for name in ("status", "style", "aspect_ratio", "review"):
            field = self.fields[name]
            # Django keeps a ChoiceField's choices as a list of (value, label); the first is the "Any …" one.
            assert isinstance(field, forms.ChoiceField) and isinstance(field.choices, list)
            field.widget.attrs["aria-label"] = str(field.choices[0][1]).replace("Any ", "").capitalize()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def history_filters(self) -> dict[str, Any]:
        """Keyword arguments for `selectors.history` from the valid part of the filters."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else getattr(self, "cleaned_data", {})
        tz = timezone.get_current_timezone()
        start, end = data.get("date_from"), data.get("date_to")
        return {
            "query": (data.get("q") or "").strip() or None,
            "status": data.get("status") or None,
            "style": data.get("style") or None,
            "aspect_ratio": data.get("aspect_ratio") or None,
            "starred": bool(data.get("starred")),
            "review": data.get("review") or None,
            "since": timezone.make_aware(datetime.combine(start, time.min), tz) if start else None,
            # "To" is inclusive: everything before the start of the next day.
            "until": timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz) if end else None,
        }

    @property
    def is_filtered(self) -> bool:
        return any(v for v in self.history_filters().values())
