"""Review pages (names in the `review` namespace)."""

from django.urls import path  # noqa: F401

app_name = "review"

urlpatterns: list = []
