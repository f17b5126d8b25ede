// @seedance/sdk: a zero-dependency client for the Seedream 5.0 Lite image generation API.
export { SeedanceClient, DEFAULT_BASE_URL, VERSION } from './client.js';
export {
  SeedanceError,
  AuthenticationError,
  InsufficientCreditsError,
  InvalidRequestError,
  PermissionDeniedError,
  ConflictError,
  NotFoundError,
  RateLimitError,
  APIError,
  APIConnectionError,
  GenerationFailedError,
  WaitTimeoutError,
  WebhookVerificationError,
} from './errors.js';
export { verifyWebhook, Webhook } from './webhooks.js';
