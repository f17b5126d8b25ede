"""Account pages, mounted under /accounts/ (names in the `accounts` namespace)."""

from django.urls import path

from accounts import views_auth, views_settings

app_name = "accounts"

urlpatterns = [
    path("signup", views_auth.signup, name="signup"),
    path("login", views_auth.LoginView.as_view(), name="login"),
    path("logout", views_auth.LogoutView.as_view(), name="logout"),
    path("password", views_auth.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset", views_auth.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent", views_auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>",
        views_auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done", views_auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("settings", views_settings.settings_home, name="settings"),
    path("settings/keys", views_settings.keys, name="keys"),
    path("settings/keys/<int:key_id>/revoke", views_settings.revoke_key, name="revoke_key"),
    path("settings/credits", views_settings.credits, name="credits"),
    path("settings/appearance", views_settings.appearance, name="appearance"),
    path("settings/privacy", views_settings.privacy, name="privacy"),
]
