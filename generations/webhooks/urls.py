"""The webhooks settings pages, under /settings/webhooks (names in the `webhooks` namespace)."""

from django.urls import path

from generations.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("settings/webhooks", views.page, name="page"),
    path("settings/webhooks/secret/rotate", views.rotate_secret, name="rotate"),
    path("settings/webhooks/deliveries/<str:public_id>", views.delivery, name="delivery"),
    path("settings/webhooks/deliveries/<str:public_id>/resend", views.resend, name="resend"),
]
