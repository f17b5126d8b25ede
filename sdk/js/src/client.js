// SeedanceClient: HTTP with the document's retry strategy, and the resources.
import { randomUUID } from 'node:crypto';
import {
  APIConnectionError,
  APIError,
  ConflictError,
  GenerationFailedError,
  RateLimitError,
  WaitTimeoutError,
  errorFromResponse,
} from './errors.js';

export const VERSION = '0.1.0';
export const DEFAULT_BASE_URL = 'https://api.seedance.it.com/v1';
const RETRY_STATUSES = new Set([500, 502, 503, 504]);
const FIRST_POLL_MS = 250;
const ENDED = new Set(['failed', 'canceled']);
const TERMINAL = new Set(['completed', 'failed', 'canceled']);
const DEFAULT_RETRY_MS = 1000;
// Options that steer the SDK and are never sent to the API.
const CALL_OPTIONS = ['wait', 'timeout', 'pollInterval', 'idempotencyKey'];

const env = typeof process !== 'undefined' && process.env ? process.env : {};
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** 500 ms, 1 s, 2 s, ... capped at 8 s. */
export function backoff(attempt) {
  return Math.min(8000, 500 * 2 ** attempt);
}

/** `deepThinking` -> `deep_thinking`; keys already in snake_case are kept. */
export function snakeCase(key) {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The wire body: top-level keys in snake_case, undefined/null left out (values, e.g. metadata, untouched). */
export function toWire(options) {
  const body = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && value !== null && !CALL_OPTIONS.includes(key)) body[snakeCase(key)] = value;
  }
  return body;
}

function retryDelayMs(error, attempt) {
  if (error instanceof RateLimitError) return error.retryAfter != null ? error.retryAfter * 1000 : backoff(attempt);
  if (error instanceof APIError && RETRY_STATUSES.has(error.status)) return backoff(attempt);
  if (error instanceof ConflictError && error.code === 'idempotency_in_progress') return backoff(attempt);
  return null;
}

class Images {
  constructor(client) {
    this._c = client;
  }

  /**
   * Submit one image and, unless `wait: false`, wait for it and return the completed image.
   * Options are camelCase or snake_case (`deepThinking`, `aspectRatio`, `webhookUrl`, ...).
   */
  async generate(options) {
    const submitted = await this._c._request('POST', '/images/generate', {
      body: toWire(options),
      idempotencyKey: options.idempotencyKey,
    });
    if (options.wait === false) return submitted;
    return this.wait(submitted.task_id, options);
  }

  /** `GET /images/{taskId}`. */
  get(taskId) {
    return this._c._request('GET', `/images/${encodeURIComponent(taskId)}`);
  }

  /** Poll until completed; throws GenerationFailedError (failed/canceled) or WaitTimeoutError. */
  async wait(taskId, { timeout, pollInterval } = {}) {
    const task = await this._c._poll(() => this.get(taskId), timeout, pollInterval, `image ${taskId}`);
    if (ENDED.has(task.status)) throw new GenerationFailedError(task);
    return task;
  }

  /**
   * The image's progress as it happens (`GET /images/{taskId}/events`, server-sent events): an async
   * iterator of `{event, id, data}`: `progress` (data as `get` returns it), then `completed`,
   * `failed` or `canceled`, after which it ends. Reconnects with Last-Event-ID when the connection
   * drops or the server ends a long stream, so each event comes once.
   */
  stream(taskId, { lastEventId } = {}) {
    return this._c._events(`/images/${encodeURIComponent(taskId)}/events`, { lastEventId });
  }

  /** Cancel an unfinished image (refunded). A finished one throws ConflictError. */
  cancel(taskId, { idempotencyKey } = {}) {
    return this._c._request('POST', `/images/${encodeURIComponent(taskId)}/cancel`, { idempotencyKey });
  }

  /** One page, newest first: `{data, next_cursor, has_more}`. */
  list({ limit, cursor, status, team } = {}) {
    return this._c._request('GET', '/images', { query: { limit, cursor, status, team } });
  }

  /** Every image, newest first, fetching pages as the iteration needs them. */
  async *listAll({ limit, status, team } = {}) {
    let cursor;
    for (;;) {
      const page = await this.list({ limit, cursor, status, team });
      yield* page.data || [];
      cursor = page.next_cursor;
      if (!page.has_more || !cursor) return;
    }
  }

  /**
   * Submit up to 50 images at once and, unless `wait: false`, wait until every item finished;
   * returns the batch status (failed items are reported in `results`, not thrown).
   */
  async batchGenerate({ generations, ...options }) {
    const body = { ...toWire(options), generations: generations.map(toWire) };
    const submitted = await this._c._request('POST', '/images/batch', {
      body,
      idempotencyKey: options.idempotencyKey,
    });
    if (options.wait === false) return submitted;
    return this.waitBatch(submitted.batch_id, options);
  }

  /** `GET /images/batch/{batchId}`. */
  getBatch(batchId) {
    return this._c._request('GET', `/images/batch/${encodeURIComponent(batchId)}`);
  }

  /** The batch's progress as server-sent events (`progress`, then `completed` or `canceled`); as `stream`. */
  streamBatch(batchId, { lastEventId } = {}) {
    return this._c._events(`/images/batch/${encodeURIComponent(batchId)}/events`, { lastEventId });
  }

  /** Cancel every unfinished item of a batch (each refunded); ConflictError when nothing was left. */
  cancelBatch(batchId, { idempotencyKey } = {}) {
    return this._c._request('POST', `/images/batch/${encodeURIComponent(batchId)}/cancel`, { idempotencyKey });
  }

  /** Poll until the batch is `completed` and return its status. */
  waitBatch(batchId, { timeout, pollInterval } = {}) {
    return this._c._poll(() => this.getBatch(batchId), timeout, pollInterval, `batch ${batchId}`);
  }
}

export class SeedanceClient {
  /**
   * @param {object} [options]
   * @param {string} [options.apiKey] default: SEEDANCE_API_KEY
   * @param {string} [options.baseUrl] default: SEEDANCE_BASE_URL, else https://api.seedance.it.com/v1
   * @param {number} [options.timeout] per HTTP request, ms (60000)
   * @param {number} [options.maxRetries] retries of 429 / 5xx / network errors (3)
   * @param {number} [options.waitTimeout] how long generate/batchGenerate wait, ms (300000)
   * @param {number} [options.pollInterval] longest pause between polls, ms (2000)
   * @param {typeof fetch} [options.fetch] a fetch implementation (default: the global one)
   * @param {(ms: number) => Promise<void>} [options.sleep] how to pause (tests replace it)
   */
  constructor({
    apiKey = env.SEEDANCE_API_KEY,
    baseUrl = env.SEEDANCE_BASE_URL || DEFAULT_BASE_URL,
    timeout = 60000,
    maxRetries = 3,
    waitTimeout = 300000,
    pollInterval = 2000,
    fetch: fetchImpl = globalThis.fetch,
    sleep = realSleep,
  } = {}) {
    if (!apiKey) throw new Error('Pass { apiKey } or set SEEDANCE_API_KEY.');
    if (typeof fetchImpl !== 'function') throw new Error('No fetch: use Node 18+ or pass { fetch }.');
    this.apiKey = apiKey;
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.timeout = timeout;
    this.maxRetries = Math.max(0, maxRetries);
    this.waitTimeout = waitTimeout;
    this.pollInterval = pollInterval;
    this._fetch = fetchImpl;
    this._sleep = sleep;
    this.images = new Images(this);
    this.account = { credits: () => this._request('GET', '/account/credits') };
    this.models = { list: () => this._request('GET', '/models') };
  }

  /** The bytes of an image (a URL or a completed image object). Signed links need no key. */
  async download(urlOrImage) {
    const url = typeof urlOrImage === 'string' ? urlOrImage : urlOrImage.image_url;
    const response = await this._send('GET', url, {});
    return new Uint8Array(await response.arrayBuffer());
  }

  async _request(method, path, { body, query, idempotencyKey } = {}) {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers = { Authorization: `Bearer ${this.apiKey}`, Accept: 'application/json' };
    if (method === 'POST') headers['Idempotency-Key'] = idempotencyKey || randomUUID();
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await this._send(method, url.toString(), {
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.json();
  }

  async _send(method, url, { headers = {}, body, signal } = {}) {
    const init = { method, headers: { 'User-Agent': `seedance-js/${VERSION}`, ...headers }, body };
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await this._fetch(url, { ...init, signal: signal ?? AbortSignal.timeout(this.timeout) });
      } catch (cause) {
        if (attempt >= this.maxRetries) {
          const error = new APIConnectionError(`Could not reach ${url}: ${cause.message}`, { code: 'connection_error' });
          error.cause = cause;
          throw error;
        }
        await this._sleep(backoff(attempt));
        continue;
      }
      if (response.ok) return response;
      const error = await errorFromResponse(response);
      const delay = retryDelayMs(error, attempt);
      if (delay == null || attempt >= this.maxRetries) throw error;
      await this._sleep(delay);
    }
  }

  /**
   * Every event of the stream at `path` until its terminal one. A stream the server ends is reopened
   * after its `retry:` hint; a dropped (or, for `timeout` ms, silent) connection too, with backoff, at
   * most `maxRetries` times in a row without an event. A 204 (terminal event already seen) just ends.
   */
  async *_events(path, { lastEventId } = {}) {
    let last = lastEventId;
    let delay = DEFAULT_RETRY_MS;
    let failures = 0;
    for (;;) {
      const headers = { Authorization: `Bearer ${this.apiKey}`, Accept: 'text/event-stream' };
      if (last != null) headers['Last-Event-ID'] = String(last);
      const controller = new AbortController();
      let timer;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(new Error(`no data for ${this.timeout} ms`)), this.timeout);
      };
      try {
        arm();
        const response = await this._send('GET', `${this.baseUrl}${path}`, { headers, signal: controller.signal });
        if (response.status === 204) return;
        const parser = new EventParser();
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for await (const chunk of response.body) {
            arm();
            buffer += decoder.decode(chunk, { stream: true });
            const lines = buffer.split(/\r\n|\r|\n/);
            buffer = lines.pop();
            for (const line of lines) {
              const event = parser.feed(line);
              if (parser.retry != null) delay = parser.retry;
              if (!event) continue;
              failures = 0;
              if (event.id != null) last = event.id;
              yield event;
              if (TERMINAL.has(event.event)) return;
            }
          }
        } catch (cause) {
          failures += 1;
          if (failures > this.maxRetries) {
            const error = new APIConnectionError(`The event stream ${path} kept dropping: ${cause.message}`, {
              code: 'connection_error',
            });
            error.cause = cause;
            throw error;
          }
          await this._sleep(Math.max(delay, backoff(failures - 1)));
          continue;
        }
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
      await this._sleep(delay);
    }
  }

  async _poll(fetchOnce, timeout, pollInterval, what) {
    const limit = timeout ?? this.waitTimeout;
    const ceiling = pollInterval ?? this.pollInterval;
    const deadline = Date.now() + limit;
    let delay = Math.min(FIRST_POLL_MS, ceiling);
    for (;;) {
      const reply = await fetchOnce();
      if (reply.status !== 'processing' && reply.status !== 'queued' && reply.status != null) return reply;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new WaitTimeoutError(`${what} had not finished after ${limit} ms.`, { code: 'timeout', body: reply });
      }
      await this._sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, ceiling);
    }
  }
}

/** The event-stream format, a line at a time: comments ignored, `retry:` remembered. */
export class EventParser {
  constructor() {
    this.retry = null;
    this._name = '';
    this._data = [];
    this._id = null;
  }

  /** The event `line` completes (a blank line after data) as `{event, id, data}`, else null. */
  feed(line) {
    if (line === '') {
      if (this._data.length === 0) {
        this._name = '';
        return null;
      }
      const raw = this._data.join('\n');
      let data;
      try {
        data = JSON.parse(raw);
      } catch {
        data = raw;
      }
      const event = { event: this._name || 'message', id: this._id, data };
      this._name = '';
      this._data = [];
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') this._name = value;
    else if (name === 'data') this._data.push(value);
    else if (name === 'id' && !value.includes('\0')) this._id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}
