import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';

import { Webhook, WebhookVerificationError, verifyWebhook } from '../src/index.js';

const BODY = '{"event":"image.completed","task_id":"img_abc123def456","status":"completed"}';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const now = () => Math.floor(Date.now() / 1000);

// The vectors are computed here, independently of the SDK's code.
const hexSignature = (body, secret) => createHmac('sha256', secret).update(body).digest('hex');
function standardSignature(id, timestamp, body, secret) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

test('verifyWebhook accepts the hex HMAC-SHA256 of the raw body keyed by the secret', () => {
  const signature = hexSignature(BODY, 'my-secret');
  assert.equal(verifyWebhook(BODY, signature, 'my-secret'), true);
  assert.equal(verifyWebhook(Buffer.from(BODY), signature, 'my-secret'), true);
  assert.equal(verifyWebhook(new TextEncoder().encode(BODY), signature, 'my-secret'), true);
});

test('verifyWebhook refuses a wrong secret, a changed body, a bad or missing signature', () => {
  const signature = hexSignature(BODY, 'my-secret');
  assert.equal(verifyWebhook(BODY, signature, 'other-secret'), false);
  assert.equal(verifyWebhook(`${BODY} `, signature, 'my-secret'), false);
  assert.equal(verifyWebhook(BODY, signature.toUpperCase(), 'my-secret'), false);
  assert.equal(verifyWebhook(BODY, signature.slice(1), 'my-secret'), false);
  assert.equal(verifyWebhook(BODY, '', 'my-secret'), false);
  assert.equal(verifyWebhook(BODY, undefined, 'my-secret'), false);
});

test('a known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")', () => {
  const fox = 'The quick brown fox jumps over the lazy dog';
  assert.equal(verifyWebhook(fox, 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8', 'key'), true);
});

test('Webhook.verify accepts Standard Webhooks headers and returns the parsed body', () => {
  const ts = now();
  const headers = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(ts),
    'webhook-signature': standardSignature('msg_1', ts, BODY, SECRET),
  };
  assert.deepEqual(new Webhook(SECRET).verify(BODY, headers), JSON.parse(BODY));
  // Any header case, a Headers object, and one of several signatures (a rotation).
  const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
  assert.equal(new Webhook(SECRET).verify(BODY, upper).task_id, 'img_abc123def456');
  const rotated = new Headers({
    ...headers,
    'webhook-signature': `${standardSignature('msg_1', ts, BODY, 'whsec_b3RoZXI=')} ${headers['webhook-signature']}`,
  });
  assert.equal(new Webhook(SECRET).verify(Buffer.from(BODY), rotated).status, 'completed');
  assert.equal(new Webhook(SECRET).sign('msg_1', ts, BODY), headers['webhook-signature']);
});

test('Webhook.verify refuses tampering, other secrets, stale or future timestamps and missing headers', () => {
  const ts = now();
  const good = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(ts),
    'webhook-signature': standardSignature('msg_1', ts, BODY, SECRET),
  };
  const wh = new Webhook(SECRET);
  const refuses = (body, headers, pattern) =>
    assert.throws(() => wh.verify(body, headers), (e) => e instanceof WebhookVerificationError && pattern.test(e.message));
  refuses(`${BODY} `, good, /matches/);
  refuses(BODY, { ...good, 'webhook-id': 'msg_2' }, /matches/);
  refuses(BODY, { ...good, 'webhook-signature': standardSignature('msg_1', ts, BODY, 'whsec_b3RoZXI=') }, /matches/);
  refuses(BODY, { ...good, 'webhook-signature': good['webhook-signature'].replace('v1,', 'v2,') }, /matches/);
  const old = ts - 600;
  refuses(BODY, { ...good, 'webhook-timestamp': String(old), 'webhook-signature': standardSignature('msg_1', old, BODY, SECRET) }, /old/);
  const future = ts + 600;
  refuses(BODY, { ...good, 'webhook-timestamp': String(future), 'webhook-signature': standardSignature('msg_1', future, BODY, SECRET) }, /future/);
  refuses(BODY, { ...good, 'webhook-timestamp': 'soon' }, /integer/);
  refuses(BODY, { 'webhook-id': 'msg_1' }, /Missing/);
});
