from django.urls import path

from generations.views import batch, image, selection, share, studio

app_name = "generations"

urlpatterns = [
    path("", studio.studio, name="studio"),
    path("generate", studio.create, name="create"),
    path("tiles", studio.tiles, name="tiles"),
    path("images/<str:public_id>", image.image, name="image"),
    path("images/<str:public_id>/star", image.star, name="star"),
    path("images/<str:public_id>/delete", image.delete, name="delete"),
    path("images/<str:public_id>/cancel", image.cancel, name="cancel"),
    path("batches/<str:public_id>/cancel", batch.cancel, name="batch_cancel"),
    path("images/<str:public_id>/share", share.create, name="share"),
    path("s/<str:token>", share.shared, name="shared"),
    path("selection", selection.selection, name="selection"),
    path("exports/<str:public_id>", selection.export, name="export"),
    path("exports/<str:public_id>/download", selection.export_download, name="export_download"),
]
