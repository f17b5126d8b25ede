"""Teams, invitations and the workspace switcher (names in the `teams` namespace)."""

from django.urls import path

from accounts import views_teams

app_name = "teams"

urlpatterns = [
    path("workspace", views_teams.switch_workspace, name="switch"),
]
