import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { APIConnectionError, NotFoundError } from '../src/index.js';
import { clientOf, envelope, startFakeServer } from './fake-server.js';

let route = () => null;
let server;
before(async () => {
  server = await startFakeServer((request, all) => route(request, all));
});
after(() => server.close());

const client = (options = {}) => clientOf(server, options);

/** An event-stream reply: [id, name, data] events with keep-alives between, and an optional retry hint. */
function sse(events, { retry, extra = '', cut = false } = {}) {
  let body = retry != null ? `retry: ${retry}\n\n` : '';
  for (const [id, name, data] of events) body += `: keep-alive\n\nid: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return { headers: { 'content-type': 'text/event-stream' }, body: body + extra, cut };
}

async function collect(iterator) {
  const out = [];
  for await (const event of iterator) out.push(event);
  return out;
}

test('stream reconnects with Last-Event-ID after the server ends it, until the terminal event', async () => {
  const replies = [
    sse(
      [
        ['5', 'progress', { progress: 0.2 }],
        ['9', 'progress', { progress: 0.5 }],
      ],
      { retry: 500 },
    ),
    sse([['12', 'progress', { progress: 0.8 }]]),
    sse([
      ['20', 'completed', { status: 'completed', image_url: 'u' }],
      ['21', 'progress', {}],
    ]),
  ];
  route = (r, all) => (r.path === '/v1/images/img_1/events' ? replies[all.length - 1] : null);
  const { c, sleeps, requests } = client();
  const events = await collect(c.images.stream('img_1'));
  assert.deepEqual(
    events.map((e) => [e.id, e.event]),
    [
      ['5', 'progress'],
      ['9', 'progress'],
      ['12', 'progress'],
      ['20', 'completed'],
    ],
  );
  assert.deepEqual(events[3].data, { status: 'completed', image_url: 'u' });
  assert.deepEqual(
    requests.map((r) => r.headers['last-event-id']),
    [undefined, '9', '12'],
  );
  assert.equal(requests[0].headers.accept, 'text/event-stream');
  assert.equal(requests[0].headers.authorization, 'Bearer sk_test');
  assert.deepEqual(sleeps, [500, 500]);
});

test('a dropped stream is resumed with backoff, and a 204 ends the iteration', async () => {
  const replies = [
    sse([['3', 'progress', { progress: 0.1 }]], { retry: 200, extra: 'id: 4\nevent: progr', cut: true }),
    { status: 204 },
  ];
  route = (r, all) => (r.path === '/v1/images/batch/batch_1/events' ? replies[all.length - 1] : null);
  const { c, sleeps, requests } = client();
  const events = await collect(c.images.streamBatch('batch_1', { lastEventId: '1' }));
  assert.deepEqual(
    events.map((e) => e.id),
    ['3'],
  );
  assert.deepEqual(
    requests.map((r) => r.headers['last-event-id']),
    ['1', '3'],
  );
  assert.deepEqual(sleeps, [500]); // the backoff (500 ms) is longer than the retry hint (200 ms)
});

test('a stream that keeps dropping gives up with APIConnectionError', async () => {
  route = () => sse([], { extra: 'id: 1\n', cut: true });
  const { c, sleeps } = client({ maxRetries: 2 });
  await assert.rejects(collect(c.images.stream('img_2')), APIConnectionError);
  assert.deepEqual(sleeps, [1000, 1000]);
});

test('a stream that cannot start throws the envelope error', async () => {
  route = () => envelope(404, 'not_found', "No image with task_id 'img_x'.");
  const { c } = client();
  await assert.rejects(collect(c.images.stream('img_x')), NotFoundError);
});

test('cancelBatch posts with an Idempotency-Key and returns the reply', async () => {
  const reply = { batch_id: 'batch_1', status: 'completed', canceled: 2, credits_refunded: 14 };
  route = (r) => (r.method === 'POST' && r.path === '/v1/images/batch/batch_1/cancel' ? { json: reply } : null);
  const { c, requests } = client();
  assert.deepEqual(await c.images.cancelBatch('batch_1'), reply);
  await c.images.cancelBatch('batch_1', { idempotencyKey: 'mine' });
  assert.equal(requests[0].headers['idempotency-key'].length, 36);
  assert.equal(requests[1].headers['idempotency-key'], 'mine');
});
