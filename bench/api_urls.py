"""The API benchmark's URLconf: Studio's URLs plus a bare Django JSON view on the same server.

Bench-only: the benchmark sends a few thousand requests a minute from one enterprise
account, and no worker runs during the benchmark, so generations stay in flight. The
tier's requests-per-minute and concurrency limits would refuse most of them and the
benchmark would measure 429s. So in the benchmark's server processes, and only there,
the enterprise tier's limits are raised. The limiter still runs and counts every request
(the counter's cost is part of what is measured); it just never says no.
"""

from dataclasses import replace

from django.http import HttpRequest, JsonResponse
from django.urls import path

from accounts.tiers import LIMITS, Tier
from studio.urls import urlpatterns as studio_urlpatterns

LIMITS[Tier.ENTERPRISE] = replace(LIMITS[Tier.ENTERPRISE], requests_per_minute=10**9, concurrent=10**9)


def plain(request: HttpRequest) -> JsonResponse:
    """The baseline: Django's middleware and a JSON body, no auth, no database."""
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/plain", plain), *studio_urlpatterns]
