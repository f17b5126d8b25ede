// A tiny fake of the API on 127.0.0.1 for the unit tests: scripted replies, recorded requests.
import http from 'node:http';

import { SeedanceClient } from '../src/index.js';

/**
 * Start a server that answers each request with `route(request)` -> {status, headers, json|body}.
 * `request` is {method, path, query, headers, body (parsed JSON or null)}; `cut: true` drops the
 * connection after the body instead of ending the reply.
 */
export async function startFakeServer(route) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://127.0.0.1');
      const request = {
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: raw ? JSON.parse(raw) : null,
      };
      requests.push(request);
      const reply = (await route(request, requests)) || { status: 500, json: { error: { code: 'unrouted' } } };
      const headers = { ...(reply.headers || {}) };
      let payload = reply.body ?? '';
      if (reply.json !== undefined) {
        payload = JSON.stringify(reply.json);
        headers['content-type'] = 'application/json';
      }
      res.writeHead(reply.status || 200, headers);
      if (reply.cut) {
        // The connection drops after `payload`: a stream cut mid-way.
        res.write(payload, () => res.socket.destroy());
        return;
      }
      res.end(payload);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The API's error envelope. */
export function envelope(status, code, message, headers = {}) {
  return { status, headers, json: { error: { code, message, status } } };
}

/** A client of `server` that records its sleeps instead of waiting: { c, sleeps, requests }. */
export function clientOf(server, options = {}) {
  server.requests.length = 0;
  const sleeps = [];
  const c = new SeedanceClient({
    apiKey: 'sk_test',
    baseUrl: `${server.url}/v1`,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { c, sleeps, requests: server.requests };
}
