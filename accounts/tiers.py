"""The product document's rate-limit tiers, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Tier(models.TextChoices):
    FREE = "free", "Free"
    STARTER = "starter", "Starter"
    POPULAR = "popular", "Popular"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


@dataclass(frozen=True)
class TierLimits:
    requests_per_minute: int
    concurrent: int
    batch_size: int


LIMITS: dict[str, TierLimits] = {
    Tier.FREE: TierLimits(requests_per_minute=10, concurrent=2, batch_size=5),
    Tier.STARTER: TierLimits(requests_per_minute=30, concurrent=5, batch_size=20),
    Tier.POPULAR: TierLimits(requests_per_minute=60, concurrent=10, batch_size=30),
    Tier.PRO: TierLimits(requests_per_minute=120, concurrent=20, batch_size=50),
    Tier.ENTERPRISE: TierLimits(requests_per_minute=240, concurrent=50, batch_size=50),
}


def limits_for(tier: str) -> TierLimits:
    return LIMITS[tier]


# What an image costs and what a new account starts with: billing, so it lives with the
# tiers; `generations.specs` re-exports the price for the doors.
PRICE_PER_IMAGE = 7
SIGNUP_CREDITS = 50
