from django.urls import path

from generations.views import image as views_image
from generations.views import selection as views_gallery
from generations.views import studio as views

app_name = "generations"

urlpatterns = [
    path("", views.studio, name="studio"),
    path("generate", views.create, name="create"),
    path("tiles/<str:public_id>", views.tile, name="tile"),
    path("images/<str:public_id>", views_image.image, name="image"),
    path("images/<str:public_id>/star", views_image.star, name="star"),
    path("images/<str:public_id>/delete", views_image.delete, name="delete"),
    path("selection", views_gallery.selection, name="selection"),
    path("exports/<str:public_id>", views_gallery.export, name="export"),
    path("exports/<str:public_id>/download", views_gallery.export_download, name="export_download"),
]
