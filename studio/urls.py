from django.contrib import admin
from django.urls import include, path

from generations.api import endpoints as api
from generations.views import files
from studio.health import healthz
from studio.landing import home

file_patterns = ([path("<str:token>/<str:filename>", files.get_file, name="get")], "files")

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("files/", include(file_patterns)),
    path("accounts/", include("accounts.urls")),
    path("", include("accounts.urls_teams")),
    path("", include("generations.review.urls")),
    path("", include("generations.review.urls_boards")),
    path("v1/", api.urls()),
    path("", include("generations.webhooks.urls")),
    path("", include("generations.urls")),
]
