// Typed errors built from the API's envelope: {"error": {"code", "message", "status"}}.

/** Base of every error this package throws. */
export class SeedanceError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string|null, status?: number|null, body?: unknown, headers?: Headers|null}} [fields]
   */
  constructor(message, { code = null, status = null, body = null, headers = null } = {}) {
    super(message);
    this.name = new.target.name;
    /** @type {string|null} */ this.code = code;
    /** @type {number|null} */ this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** 401 `invalid_api_key`. */
export class AuthenticationError extends SeedanceError {}
/** 402 `insufficient_credits`. */
export class InsufficientCreditsError extends SeedanceError {}
/** A 4xx not covered by a narrower class (400 `invalid_prompt`, ...). */
export class InvalidRequestError extends SeedanceError {}
/** 403 `forbidden`. */
export class PermissionDeniedError extends InvalidRequestError {}
/** 409 `not_cancelable`, `idempotency_key_reused`, `idempotency_in_progress`. */
export class ConflictError extends InvalidRequestError {}
/** 404 `not_found`. */
export class NotFoundError extends SeedanceError {}
/** A 5xx (after the automatic retries). */
export class APIError extends SeedanceError {}
/** The API could not be reached (after the automatic retries). */
export class APIConnectionError extends SeedanceError {}
/** The wait for an image or batch ran out of time. */
export class WaitTimeoutError extends SeedanceError {}
/** A webhook's signature or timestamp did not verify. */
export class WebhookVerificationError extends SeedanceError {}

/** 429 `rate_limited`; `retryAfter` is the Retry-After header in seconds (null if absent). */
export class RateLimitError extends SeedanceError {
  constructor(message, { retryAfter = null, ...fields } = {}) {
    super(message, fields);
    /** @type {number|null} */ this.retryAfter = retryAfter;
  }
}

/** A task that ended `failed` (or `canceled`); `task` is its last reply, `code` its `error_code`. */
export class GenerationFailedError extends SeedanceError {
  constructor(task) {
    super(String(task.error || 'Generation failed.'), {
      code: String(task.error_code || 'generation_failed'),
      body: task,
    });
    this.task = task;
  }
}

/** Retry-After as seconds: a number (the API's form) or an HTTP date; null if absent. */
export function retryAfterSeconds(headers) {
  const raw = headers.get('retry-after');
  if (raw == null || raw === '') return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** The typed error for a non-2xx Response. */
export async function errorFromResponse(response) {
  const { status, headers } = response;
  const text = await response.text().catch(() => '');
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const envelope = body && typeof body === 'object' ? body.error : null;
  const code = envelope && typeof envelope === 'object' && envelope.code ? String(envelope.code) : null;
  const message =
    (envelope && typeof envelope === 'object' && envelope.message ? String(envelope.message) : '') ||
    text.slice(0, 500) ||
    `HTTP ${status}`;
  const fields = { code, status, body, headers };
  if (status === 429) return new RateLimitError(message, { ...fields, retryAfter: retryAfterSeconds(headers) });
  let Cls = SeedanceError;
  if (status === 401) Cls = AuthenticationError;
  else if (status === 402) Cls = InsufficientCreditsError;
  else if (status === 403) Cls = PermissionDeniedError;
  else if (status === 404) Cls = NotFoundError;
  else if (status === 409) Cls = ConflictError;
  else if (status >= 500) Cls = APIError;
  else if (status >= 400) Cls = InvalidRequestError;
  return new Cls(message, fields);
}
