"""Boards pages (names in the `boards` namespace)."""

from django.urls import path  # noqa: F401

app_name = "boards"

urlpatterns: list = []
