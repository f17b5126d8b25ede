import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  APIConnectionError,
  APIError,
  AuthenticationError,
  GenerationFailedError,
  InsufficientCreditsError,
  InvalidRequestError,
  NotFoundError,
  RateLimitError,
  SeedanceClient,
  SeedanceError,
  WaitTimeoutError,
} from '../src/index.js';
import { clientOf, envelope, startFakeServer } from './fake-server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Each test installs its own route; the server is shared.
let route = () => null;
let server;
before(async () => {
  server = await startFakeServer((request, all) => route(request, all));
});
after(() => server.close());

const client = (options = {}) => clientOf(server, options);

const completed = (taskId, extra = {}) => ({
  task_id: taskId,
  status: 'completed',
  image_url: `http://127.0.0.1/files/${taskId}.png`,
  width: 1360,
  height: 768,
  model: 'seedream-5.0-lite',
  deep_thinking_used: true,
  ...extra,
});

test('generate sends snake_case, waits by polling and returns the completed image', async () => {
  let polls = 0;
  route = (r) => {
    if (r.method === 'POST' && r.path === '/v1/images/generate') {
      return { json: { task_id: 'img_1', status: 'processing', credits_charged: 7, credits_remaining: 93 } };
    }
    if (r.method === 'GET' && r.path === '/v1/images/img_1') {
      polls += 1;
      return { json: polls < 3 ? { task_id: 'img_1', status: 'processing', progress: 0.5 } : completed('img_1') };
    }
  };
  const { c, sleeps, requests } = client();
  const result = await c.images.generate({
    model: 'seedream-5.0-lite',
    prompt: 'A beautiful sunset',
    deepThinking: true,
    aspectRatio: '16:9',
    webhookUrl: 'https://example.com/hook',
    metadata: { postId: 7 },
    style: undefined,
  });
  assert.deepEqual(result, completed('img_1'));
  const [submit, ...gets] = requests;
  assert.deepEqual(submit.body, {
    model: 'seedream-5.0-lite',
    prompt: 'A beautiful sunset',
    deep_thinking: true,
    aspect_ratio: '16:9',
    webhook_url: 'https://example.com/hook',
    metadata: { postId: 7 }, // the caller's own data is sent as given
  });
  assert.equal(submit.headers.authorization, 'Bearer sk_test');
  assert.match(submit.headers['idempotency-key'], UUID);
  assert.equal(gets.length, 3);
  assert.ok(gets.every((g) => g.headers.authorization === 'Bearer sk_test' && !g.headers['idempotency-key']));
  assert.equal(sleeps.length, 2);
  assert.ok(sleeps.every((ms) => ms > 0 && ms <= 2000), `bounded poll interval: ${sleeps}`);
});

test('wait: false returns the submit reply without polling', async () => {
  route = () => ({ json: { task_id: 'img_2', status: 'processing', credits_charged: 7 } });
  const { c, requests } = client();
  const reply = await c.images.generate({ model: 'seedream-5.0-lite', prompt: 'x', wait: false });
  assert.equal(reply.task_id, 'img_2');
  assert.equal(requests.length, 1);
  assert.ok(!('wait' in requests[0].body));
});

test('a task that ends failed throws GenerationFailedError carrying the task', async () => {
  const failed = { task_id: 'img_3', status: 'failed', error: 'Engine fault.', error_code: 'generation_failed' };
  route = (r) => (r.method === 'POST' ? { json: { task_id: 'img_3', status: 'processing' } } : { json: failed });
  const { c } = client();
  const error = await c.images.generate({ model: 'seedream-5.0-lite', prompt: 'x' }).catch((e) => e);
  assert.ok(error instanceof GenerationFailedError && error instanceof SeedanceError);
  assert.equal(error.code, 'generation_failed');
  assert.equal(error.message, 'Engine fault.');
  assert.deepEqual(error.task, failed);
});

test('a wait that runs out of time throws WaitTimeoutError', async () => {
  route = () => ({ json: { task_id: 'img_4', status: 'processing' } });
  const { c } = client();
  await assert.rejects(c.images.wait('img_4', { timeout: 0 }), WaitTimeoutError);
});

for (const [status, code, Cls] of [
  [401, 'invalid_api_key', AuthenticationError],
  [402, 'insufficient_credits', InsufficientCreditsError],
  [400, 'invalid_prompt', InvalidRequestError],
  [404, 'not_found', NotFoundError],
]) {
  test(`${status} ${code} throws ${Cls.name} with code, message and status, without retrying`, async () => {
    route = () => envelope(status, code, `message for ${code}`);
    const { c, sleeps, requests } = client();
    const error = await c.images.generate({ model: 'seedream-5.0-lite', prompt: 'x' }).catch((e) => e);
    assert.ok(error instanceof Cls, `${error}`);
    assert.ok(error instanceof SeedanceError);
    assert.equal(error.name, Cls.name);
    assert.deepEqual([error.code, error.message, error.status], [code, `message for ${code}`, status]);
    assert.equal(requests.length, 1);
    assert.deepEqual(sleeps, []);
  });
}

test('429 is retried after Retry-After with the same Idempotency-Key', async () => {
  route = (r, all) => {
    if (r.method !== 'POST') return { json: completed('img_5') };
    return all.length === 1
      ? envelope(429, 'rate_limited', 'Rate limit of 10 requests per minute exceeded.', { 'Retry-After': '7' })
      : { json: { task_id: 'img_5', status: 'processing' } };
  };
  const { c, sleeps, requests } = client();
  const result = await c.images.generate({ model: 'seedream-5.0-lite', prompt: 'x' });
  assert.equal(result.status, 'completed');
  const posts = requests.filter((r) => r.method === 'POST');
  assert.equal(posts.length, 2);
  assert.equal(posts[0].headers['idempotency-key'], posts[1].headers['idempotency-key']);
  assert.deepEqual(sleeps, [7000]);
});

test('each call gets its own Idempotency-Key unless one is given', async () => {
  route = () => ({ json: { task_id: 'img_6', status: 'processing' } });
  const { c, requests } = client();
  await c.images.generate({ model: 'm', prompt: 'a', wait: false });
  await c.images.generate({ model: 'm', prompt: 'a', wait: false });
  await c.images.generate({ model: 'm', prompt: 'a', wait: false, idempotencyKey: 'mine-1' });
  const keys = requests.map((r) => r.headers['idempotency-key']);
  assert.notEqual(keys[0], keys[1]);
  assert.equal(keys[2], 'mine-1');
  assert.ok(!('idempotency_key' in requests[2].body));
});

test('a 429 past maxRetries throws RateLimitError with retryAfter', async () => {
  route = () => envelope(429, 'rate_limited', 'Slow down.', { 'Retry-After': '3' });
  const { c, sleeps, requests } = client({ maxRetries: 2 });
  const error = await c.account.credits().catch((e) => e);
  assert.ok(error instanceof RateLimitError);
  assert.equal(error.retryAfter, 3);
  assert.equal(error.status, 429);
  assert.equal(requests.length, 3);
  assert.deepEqual(sleeps, [3000, 3000]);
});

test('5xx is retried with exponential backoff, then throws APIError', async () => {
  route = () => envelope(503, 'server_error', 'Try again.');
  const { c, sleeps, requests } = client();
  const error = await c.account.credits().catch((e) => e);
  assert.ok(error instanceof APIError);
  assert.equal(error.status, 503);
  assert.equal(requests.length, 4);
  assert.deepEqual(sleeps, [500, 1000, 2000]);
});

test('a 5xx then success returns the success', async () => {
  route = (r, all) => (all.length === 1 ? { status: 502, body: 'bad gateway' } : { json: { tier: 'pro' } });
  const { c, sleeps } = client();
  assert.deepEqual(await c.account.credits(), { tier: 'pro' });
  assert.deepEqual(sleeps, [500]);
});

test('an unreachable API is retried, then throws APIConnectionError', async () => {
  const probe = await startFakeServer(() => ({ json: {} }));
  await probe.close(); // a port nobody listens on now
  const sleeps = [];
  const c = new SeedanceClient({ apiKey: 'k', baseUrl: `${probe.url}/v1`, sleep: async (ms) => sleeps.push(ms) });
  const error = await c.models.list().catch((e) => e);
  assert.ok(error instanceof APIConnectionError, `${error}`);
  assert.deepEqual(sleeps, [500, 1000, 2000]);
});

test('batchGenerate converts each item, waits for the batch and returns its results', async () => {
  let polls = 0;
  route = (r) => {
    if (r.method === 'POST') return { json: { batch_id: 'batch_1', status: 'processing', total_generations: 2 } };
    polls += 1;
    const status = polls < 2 ? 'processing' : 'completed';
    return { json: { batch_id: 'batch_1', status, results: [{ index: 0, status }, { index: 1, status }] } };
  };
  const { c, requests } = client();
  const batch = await c.images.batchGenerate({
    generations: [
      { model: 'seedream-5.0-lite', prompt: 'one', deepThinking: true },
      { model: 'seedream-5.0-lite', prompt: 'two', aspectRatio: '16:9' },
    ],
    webhookUrl: 'https://example.com/batch',
  });
  assert.equal(batch.status, 'completed');
  assert.equal(batch.results.length, 2);
  assert.deepEqual(requests[0].body, {
    webhook_url: 'https://example.com/batch',
    generations: [
      { model: 'seedream-5.0-lite', prompt: 'one', deep_thinking: true },
      { model: 'seedream-5.0-lite', prompt: 'two', aspect_ratio: '16:9' },
    ],
  });
  assert.equal(requests[0].path, '/v1/images/batch');
  assert.ok(requests.slice(1).every((r) => r.path === '/v1/images/batch/batch_1'));
});

test('list sends the filters; listAll follows next_cursor across pages', async () => {
  const pages = {
    '': { data: [{ task_id: 'a' }, { task_id: 'b' }], next_cursor: 'c1', has_more: true },
    c1: { data: [{ task_id: 'c' }, { task_id: 'd' }], next_cursor: 'c2', has_more: true },
    c2: { data: [{ task_id: 'e' }], next_cursor: null, has_more: false },
  };
  route = (r) => ({ json: pages[r.query.cursor || ''] });
  const { c, requests } = client();
  const first = await c.images.list({ limit: 2, status: 'completed' });
  assert.equal(first.next_cursor, 'c1');
  assert.deepEqual(requests[0].query, { limit: '2', status: 'completed' });
  const ids = [];
  for await (const image of c.images.listAll({ limit: 2 })) ids.push(image.task_id);
  assert.deepEqual(ids, ['a', 'b', 'c', 'd', 'e']);
});

test('cancel, getBatch, credits and models call their endpoints', async () => {
  route = (r) => ({ json: { path: r.path, method: r.method } });
  const { c } = client();
  assert.deepEqual(await c.images.cancel('img_9'), { path: '/v1/images/img_9/cancel', method: 'POST' });
  assert.deepEqual(await c.images.getBatch('batch_9'), { path: '/v1/images/batch/batch_9', method: 'GET' });
  assert.deepEqual(await c.account.credits(), { path: '/v1/account/credits', method: 'GET' });
  assert.deepEqual(await c.models.list(), { path: '/v1/models', method: 'GET' });
});

test('download returns the bytes and sends no key with a signed link', async () => {
  route = () => ({ status: 200, headers: { 'content-type': 'image/png' }, body: Buffer.from([137, 80, 78, 71]) });
  const { c, requests } = client();
  const bytes = await c.download(`${server.url}/files/img.png?sig=abc`);
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [137, 80, 78, 71]);
  assert.equal(requests[0].headers.authorization, undefined);
  const again = await c.download({ image_url: `${server.url}/files/img.png` });
  assert.equal(again.length, 4);
});

test('baseUrl defaults to SEEDANCE_BASE_URL, then the document; apiKey to SEEDANCE_API_KEY', () => {
  const saved = { url: process.env.SEEDANCE_BASE_URL, key: process.env.SEEDANCE_API_KEY };
  try {
    delete process.env.SEEDANCE_BASE_URL;
    process.env.SEEDANCE_API_KEY = 'sk_env';
    const plain = new SeedanceClient();
    assert.equal(plain.baseUrl, 'https://api.seedance.it.com/v1');
    assert.equal(plain.apiKey, 'sk_env');
    process.env.SEEDANCE_BASE_URL = 'http://127.0.0.1:9/v1/';
    assert.equal(new SeedanceClient({ apiKey: 'k' }).baseUrl, 'http://127.0.0.1:9/v1');
    assert.equal(new SeedanceClient({ apiKey: 'k', baseUrl: 'http://x/v1' }).baseUrl, 'http://x/v1');
    delete process.env.SEEDANCE_API_KEY;
    assert.throws(() => new SeedanceClient(), /apiKey/);
  } finally {
    for (const [name, value] of [['SEEDANCE_BASE_URL', saved.url], ['SEEDANCE_API_KEY', saved.key]]) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
