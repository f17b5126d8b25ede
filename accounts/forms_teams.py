"""Forms for the teams pages. They only validate; `accounts.teams` decides what is allowed."""

from __future__ import annotations

from django import forms

from accounts.models import Role

ROLE_HELP = {
    Role.OWNER: "manages members and roles",
    Role.EDITOR: "generates into the team and reviews",
    Role.VIEWER: "views, stars, comments and downloads",
}


def role_field(*, initial: str = Role.EDITOR, choices: list[tuple[str, str]] | None = None) -> forms.ChoiceField:
    return forms.ChoiceField(label="Role", choices=choices or Role.choices, initial=initial)


class TeamNameForm(forms.Form):
    name = forms.CharField(
        label="Team name",
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Poster Crew", "autocomplete": "off"}),
        error_messages={"required": "Give the team a name."},
    )


class InviteForm(forms.Form):
    identifier = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(
            attrs={"placeholder": "dana or dana@example.com", "autocomplete": "off", "autocapitalize": "none"}
        ),
        error_messages={"required": "Enter the username or email of someone with a Studio account."},
    )
    role = role_field()


class LinkForm(forms.Form):
    # A link can be forwarded: it never makes owners (accounts.teams.create_link refuses it too).
    role = role_field(initial=Role.VIEWER, choices=[c for c in Role.choices if c[0] != Role.OWNER])


class RoleForm(forms.Form):
    role = role_field()
