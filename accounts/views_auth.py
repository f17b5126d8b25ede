"""Signup, login, logout and the password pages.

Login, logout and the password views are Django's own, given Studio's templates and
URL names (login and password-reset requests are throttled by `accounts.throttle`, answered
with 429 and the time to wait); signup is ours because it must go through `services.create_user`, which
grants the 50 free credits as a ledger entry in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts import services, throttle
from accounts.forms import LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm, SignupForm
from accounts.tiers import PRICE_PER_IMAGE, SIGNUP_CREDITS


def safe_next(request: HttpRequest) -> str:
    """The `next` URL of the request if it points back into this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account with the free credits, log it in and open the studio."""
    if request.user.is_authenticated:
        return redirect(safe_next(request) or "generations:studio")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = services.create_user(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome to Studio, {user.username}! You have {SIGNUP_CREDITS} free credits — "
            f"enough for {SIGNUP_CREDITS // PRICE_PER_IMAGE} images at {PRICE_PER_IMAGE} credits each.",
        )
        return redirect(safe_next(request) or "generations:studio")
    return render(request, "accounts/signup.html", {"form": form, "next": safe_next(request)})


def _too_many(response: HttpResponse, refusal: throttle.Refusal) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(refusal.retry_after)
    return response


class LoginView(auth_views.LoginView):
    """Log in with a username or an email; `next` is followed only within this site."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        """The form again with its errors; 429 with Retry-After when `accounts.throttle` refused the attempt."""
        response = super().form_invalid(form)
        if form.refusal is not None:
            return _too_many(response, form.refusal)
        return response


class LogoutView(auth_views.LogoutView):
    """Log out by POST only (Django answers GET with 405), then back to the login page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(request, "You're logged out. See you soon.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password (old one first) and stay logged in on this device."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:password_change")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed. Other devices need the new one to log in.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Mail a one-time reset link. Says the same whether or not the address has an account."""

    template_name = "accounts/password_reset_form.html"
    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "mail_delivery": mail_delivery()}

    def form_valid(self, form: Any) -> HttpResponse:
        """Send the mail, unless this address asked for too many (counted whether or not the email has an account)."""
        refusal = throttle.reset_requested(throttle.client_address(self.request))
        if refusal is not None:
            form.add_error(None, forms.ValidationError(refusal.message, code="throttled"))
            return _too_many(self.form_invalid(form), refusal)
        return super().form_valid(form)


# Mail backends that deliver nowhere but this server: the console (the embedded default) prints
# each message to the log, the file backend writes it under EMAIL_FILE_PATH.
_LOCAL_MAIL = {
    "django.core.mail.backends.console.EmailBackend": "log",
    "django.core.mail.backends.filebased.EmailBackend": "file",
}


def mail_delivery() -> str:
    """Where a mail sent now goes: "log", "file", or "" for a real mail server."""
    return _LOCAL_MAIL.get(settings.EMAIL_BACKEND, "")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    """Says where the link went: an inbox, or (with no mail server set up) the server's log."""

    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "mail_delivery": mail_delivery()}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the mailed link, and log in with it."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
