from django.urls import path

from generations.views import image as views_image
from generations.views import selection as views_gallery
from generations.views import studio as views
from generations.webhooks import views as webhook_views

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
    path("settings/webhooks", webhook_views.page, name="webhooks"),
    path("settings/webhooks/secret/rotate", webhook_views.rotate_secret, name="webhook_rotate"),
    path("settings/webhooks/deliveries/<str:public_id>", webhook_views.delivery, name="webhook_delivery"),
    path("settings/webhooks/deliveries/<str:public_id>/resend", webhook_views.resend, name="webhook_resend"),
]
