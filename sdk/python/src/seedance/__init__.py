"""Python client for the Seedream 5.0 Lite image generation API: `SeedanceClient(api_key=...)`."""

from seedance._stream import Event
from seedance._transport import DEFAULT_BASE_URL, VERSION
from seedance.client import SeedanceClient
from seedance.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SeedanceError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from seedance.webhooks import Webhook, verify_webhook

__version__ = VERSION
__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "ConflictError",
    "Event",
    "GenerationFailedError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SeedanceClient",
    "SeedanceError",
    "WaitTimeoutError",
    "Webhook",
    "WebhookVerificationError",
    "__version__",
    "verify_webhook",
]
