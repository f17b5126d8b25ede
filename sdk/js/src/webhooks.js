// Verifying webhook deliveries: the document's X-Seedance-Signature, and Standard Webhooks.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';

export const TOLERANCE_SECONDS = 5 * 60;

function toBuffer(value) {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

function safeEqual(a, b) {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The document's check: `signature` is the lowercase hex HMAC-SHA256 of the raw body, keyed by
 * the secret string. Pass the raw body as received (not re-serialised JSON). Constant-time.
 * @param {string|Uint8Array} payload
 * @param {string|null|undefined} signature
 * @param {string} secret
 * @returns {boolean}
 */
export function verifyWebhook(payload, signature, secret) {
  if (!signature) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(toBuffer(payload)).digest('hex');
  return safeEqual(Buffer.from(expected, 'utf8'), Buffer.from(String(signature), 'utf8'));
}

function header(headers, name) {
  if (typeof headers.get === 'function') return headers.get(name);
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` ("v1,<base64>" over
 * `id.timestamp.body`, keyed by the base64 part of the `whsec_...` secret). Several
 * space-separated signatures may be sent (secret rotation); one match is enough. Timestamps
 * more than 5 minutes away are refused.
 */
export class Webhook {
  /** @param {string|Uint8Array} secret @param {{tolerance?: number}} [options] tolerance in seconds */
  constructor(secret, { tolerance = TOLERANCE_SECONDS } = {}) {
    if (typeof secret === 'string') {
      const raw = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) throw new Error('The webhook secret is not whsec_ followed by base64.');
      this.key = Buffer.from(raw, 'base64');
    } else {
      this.key = toBuffer(secret);
    }
    this.tolerance = tolerance;
  }

  /** The `v1,<base64>` signature of one delivery. */
  sign(msgId, timestamp, payload) {
    const hmac = createHmac('sha256', this.key);
    hmac.update(`${msgId}.${Math.floor(Number(timestamp))}.`, 'utf8');
    hmac.update(toBuffer(payload));
    return `v1,${hmac.digest('base64')}`;
  }

  /**
   * Check the headers (a Headers object or a plain object) against the raw body; return the
   * parsed JSON body or throw WebhookVerificationError.
   */
  verify(payload, headers) {
    const msgId = header(headers, 'webhook-id');
    const rawTimestamp = header(headers, 'webhook-timestamp');
    const signatures = header(headers, 'webhook-signature');
    if (!msgId || !rawTimestamp || !signatures) {
      throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header.');
    }
    if (!/^\d+$/.test(String(rawTimestamp).trim())) {
      throw new WebhookVerificationError('webhook-timestamp is not an integer.');
    }
    const timestamp = Number(rawTimestamp);
    const now = Math.floor(Date.now() / 1000);
    if (timestamp < now - this.tolerance) throw new WebhookVerificationError('The webhook timestamp is too old.');
    if (timestamp > now + this.tolerance) throw new WebhookVerificationError('The webhook timestamp is in the future.');
    const expected = Buffer.from(this.sign(msgId, timestamp, payload).slice(3), 'utf8');
    for (const candidate of String(signatures).split(/\s+/)) {
      const comma = candidate.indexOf(',');
      if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
      if (safeEqual(expected, Buffer.from(candidate.slice(comma + 1), 'utf8'))) {
        return JSON.parse(toBuffer(payload).toString('utf8'));
      }
    }
    throw new WebhookVerificationError('No webhook-signature matches.');
  }
}
