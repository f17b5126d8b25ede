"""Boards pages and compare (names in the `boards` namespace)."""

from django.urls import path

from generations.review import boards as views_boards

app_name = "boards"

urlpatterns = [
    path("boards", views_boards.board_list, name="list"),
    path("boards/new", views_boards.create, name="create"),
    path("boards/<str:board_id>", views_boards.detail, name="detail"),
    path("boards/<str:board_id>/rename", views_boards.rename, name="rename"),
    path("boards/<str:board_id>/delete", views_boards.delete, name="delete"),
    path("boards/<str:board_id>/items", views_boards.items, name="items"),
    path("boards/<str:board_id>/download", views_boards.download, name="download"),
    path("compare", views_boards.compare, name="compare"),
]
