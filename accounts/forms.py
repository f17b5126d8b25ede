"""Forms for the account pages: signup, login by username or email, API key names.

The forms only validate; the views hand clean data to `accounts.services`, so signup
through the browser and `manage.py createuser` create a user (and its 50 credits) the
same way.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts import throttle
from accounts.models import ApiKey, Theme, User

PASSWORD_HELP = "At least 8 characters. Not a common password, not only digits, not like your username."


class SignupForm(UserCreationForm):
    """Username, email and the password twice, checked by Django's password validators."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="For password resets. Never shown to anyone else.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.help_text = "Letters, digits and @ . + - _ only; 150 characters at most."
        username.widget.attrs.update(autocomplete="username", autocapitalize="none", spellcheck="false")
        self.fields["password1"].help_text = PASSWORD_HELP
        self.fields["password2"].label = "Password again"
        self.fields["password2"].help_text = ""

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Log in, or reset its password.", code="email_taken"
            )
        return email


class LoginForm(AuthenticationForm):
    """Log in with a username or an email address; too many failures refuse further tries a while.

    `refusal` says why an attempt was refused by `accounts.throttle` (the view answers 429).
    """

    refusal: throttle.Refusal | None = None

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username or email and password don't match an account. Passwords are case-sensitive.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = "Username or email"
        username.widget.attrs.update(autocomplete="username", autocapitalize="none", spellcheck="false")

    def clean(self) -> dict[str, Any]:
        identifier = (self.cleaned_data.get("username") or "").strip()
        if "@" in identifier and not User.objects.filter(username=identifier).exists():
            # Emails are unique at signup (any case); an ambiguous older address logs no one in.
            matches = list(User.objects.filter(email__iexact=identifier).values_list("username", flat=True)[:2])
            if len(matches) == 1:
                self.cleaned_data["username"] = matches[0]
        if not identifier or not self.cleaned_data.get("password"):
            return super().clean()  # nothing to check: not an attempt
        # The same account whether it was named by username or email, in any case.
        account = throttle.account_key(self.cleaned_data["username"])
        address = throttle.client_address(self.request)
        self.refusal = throttle.login_refusal(account=account, address=address)
        if self.refusal is not None:  # refused before the password is checked
            raise forms.ValidationError(self.refusal.message, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if exc.code == "invalid_login":
                throttle.login_failed(account=account, address=address)
            raise
        throttle.login_succeeded(account=account)
        return cleaned


class ApiKeyForm(forms.Form):
    """The name of a new API key: what it is for, so it can be recognised and revoked later."""

    name = forms.CharField(
        label="Key name",
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text="What uses this key, e.g. “production server” or “my laptop”.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Production server", "autocomplete": "off"}),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the key a name.", code="required")
        return name


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form, with one plain line of password rules instead of the validators' HTML list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password1"].help_text = PASSWORD_HELP
        self.fields["new_password2"].label = "New password again"
        self.fields["new_password2"].help_text = ""


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The reset link's form: a new password twice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = PASSWORD_HELP
        self.fields["new_password1"].widget.attrs["autofocus"] = True
        self.fields["new_password2"].label = "New password again"
        self.fields["new_password2"].help_text = ""


class PasswordResetForm(auth_forms.PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Email"
        self.fields["email"].widget.attrs.update(autofocus=True, placeholder="you@example.com")


class ThemeForm(forms.Form):
    """Light, dark, or the OS setting (`User.theme`)."""

    theme = forms.ChoiceField(choices=Theme.choices)


class PrivacyForm(forms.Form):
    """Whether new images carry the prompt and parameters in their files (`User.embed_parameters`)."""

    embed_parameters = forms.BooleanField(required=False, label="Embed the prompt and parameters in image files")
