"""Teams, invitations and the workspace switcher (names in the `teams` namespace)."""

from django.urls import path

from accounts import views_teams

app_name = "teams"

urlpatterns = [
    path("workspace", views_teams.switch_workspace, name="switch"),
    path("teams", views_teams.team_list, name="list"),
    path("teams/new", views_teams.create, name="create"),
    path("teams/<str:team_id>", views_teams.detail, name="detail"),
    path("teams/<str:team_id>/members/<int:member_id>/role", views_teams.change_role, name="role"),
    path("teams/<str:team_id>/members/<int:member_id>/remove", views_teams.remove, name="remove"),
    path("teams/<str:team_id>/invite", views_teams.invite, name="invite"),
    path("teams/<str:team_id>/links", views_teams.create_link, name="link"),
    path("teams/<str:team_id>/invites/<int:invite_id>/revoke", views_teams.revoke, name="revoke"),
    path("teams/<str:team_id>/rename", views_teams.rename, name="rename"),
    path("teams/<str:team_id>/leave", views_teams.leave, name="leave"),
    path("invitations/<int:invite_id>/accept", views_teams.accept, name="accept"),
    path("invitations/<int:invite_id>/decline", views_teams.decline, name="decline"),
    path("invites/<str:token>", views_teams.join, name="join"),
]
