"""Review pages (names in the `review` namespace)."""

from django.urls import path

from generations.review import views as views_review

app_name = "review"

urlpatterns = [
    path("review", views_review.queue, name="queue"),
    path("images/<str:public_id>/review", views_review.set_status, name="set"),
    path("images/<str:public_id>/comments", views_review.comment, name="comment"),
    path("comments/<int:comment_id>/resolve", views_review.resolve, name="resolve"),
]
