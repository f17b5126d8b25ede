// Types for @seedance/sdk. Replies are typed as the API sends them (snake_case keys).

export declare const DEFAULT_BASE_URL: string;
export declare const VERSION: string;

export type AspectRatio = '1:1' | '16:9' | '9:16' | '4:3' | '3:4' | '3:2' | (string & {});
export type TaskStatus = 'processing' | 'completed' | 'failed' | 'canceled';

export interface ClientOptions {
  /** Default: the SEEDANCE_API_KEY environment variable. */
  apiKey?: string;
  /** Default: SEEDANCE_BASE_URL, else https://api.seedance.it.com/v1. */
  baseUrl?: string;
  /** Per HTTP request, in ms (default 60000). */
  timeout?: number;
  /** Automatic retries of 429 (after Retry-After), 5xx and network errors (default 3). */
  maxRetries?: number;
  /** How long generate/batchGenerate wait for the result, in ms (default 300000). */
  waitTimeout?: number;
  /** Longest pause between polls, in ms (default 2000). */
  pollInterval?: number;
  fetch?: typeof fetch;
  /** How the client pauses between retries and polls (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface WaitOptions {
  /** Wait timeout in ms (default: the client's waitTimeout). */
  timeout?: number;
  pollInterval?: number;
}

export interface CallOptions extends WaitOptions {
  /** false: return the submit reply instead of waiting (default true). */
  wait?: boolean;
  /** Sent as Idempotency-Key (default: a new uuid4 per call, reused across its retries). */
  idempotencyKey?: string;
}

export interface GenerationRequest {
  model: string;
  prompt: string;
  aspectRatio?: AspectRatio;
  deepThinking?: boolean;
  style?: string;
  colors?: string[];
  webhookUrl?: string;
  metadata?: Record<string, unknown>;
  seed?: number;
  team?: string;
  /** Any other field is sent too, its key converted to snake_case. */
  [field: string]: unknown;
}

export interface GenerateOptions extends GenerationRequest, CallOptions {}

export interface Submitted {
  task_id: string;
  status: 'processing';
  model: string;
  credits_charged: number;
  credits_remaining: number;
  estimated_time_seconds: number;
  [field: string]: unknown;
}

export interface Image {
  task_id: string;
  status: TaskStatus;
  model: string;
  progress?: number;
  estimated_time_remaining?: number;
  image_url?: string;
  image_url_webp?: string;
  thumbnail_url?: string;
  width?: number;
  height?: number;
  deep_thinking_used?: boolean;
  credits_charged?: number;
  metadata?: Record<string, unknown>;
  error?: string;
  error_code?: string;
  batch_id?: string | null;
  created_at: string;
  [field: string]: unknown;
}

export interface ImagePage {
  data: Image[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface ListOptions {
  limit?: number;
  cursor?: string;
  status?: TaskStatus;
  team?: string;
}

export interface BatchOptions extends CallOptions {
  generations: GenerationRequest[];
  webhookUrl?: string;
  team?: string;
}

export interface BatchSubmitted {
  batch_id: string;
  status: 'processing';
  total_generations: number;
  total_credits_charged: number;
  credits_remaining: number;
  [field: string]: unknown;
}

export interface BatchResult {
  index: number;
  status: TaskStatus;
  task_id: string;
  image_url: string | null;
  image_url_webp?: string | null;
  error?: string | null;
  error_code?: string | null;
}

export interface BatchStatus {
  batch_id: string;
  status: 'processing' | 'completed';
  results: BatchResult[];
  [field: string]: unknown;
}

/** One server-sent event of `images.stream` / `images.streamBatch`. */
export interface StreamEvent<T> {
  event: 'progress' | 'completed' | 'failed' | 'canceled' | string;
  id: string | null;
  data: T;
}

export interface StreamOptions {
  /** Resume after this event id (the `id` of an event seen earlier). */
  lastEventId?: string;
}

export interface Images {
  generate(options: GenerateOptions & { wait: false }): Promise<Submitted>;
  generate(options: GenerateOptions): Promise<Image>;
  get(taskId: string): Promise<Image>;
  wait(taskId: string, options?: WaitOptions): Promise<Image>;
  cancel(taskId: string, options?: { idempotencyKey?: string }): Promise<Image & { credits_remaining: number }>;
  list(options?: ListOptions): Promise<ImagePage>;
  listAll(options?: Omit<ListOptions, 'cursor'>): AsyncGenerator<Image, void, undefined>;
  batchGenerate(options: BatchOptions & { wait: false }): Promise<BatchSubmitted>;
  batchGenerate(options: BatchOptions): Promise<BatchStatus>;
  getBatch(batchId: string): Promise<BatchStatus>;
  waitBatch(batchId: string, options?: WaitOptions): Promise<BatchStatus>;
  stream(taskId: string, options?: StreamOptions): AsyncGenerator<StreamEvent<Image>, void, undefined>;
  streamBatch(batchId: string, options?: StreamOptions): AsyncGenerator<StreamEvent<BatchStatus>, void, undefined>;
  cancelBatch(
    batchId: string,
    options?: { idempotencyKey?: string },
  ): Promise<BatchStatus & { canceled: number; credits_refunded: number; credits_remaining: number }>;
}

export interface Credits {
  credits_remaining: number;
  tier: string;
  [field: string]: unknown;
}

export declare class SeedanceClient {
  constructor(options?: ClientOptions);
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly images: Images;
  readonly account: { credits(): Promise<Credits> };
  readonly models: { list(): Promise<{ data: Array<{ id: string; [field: string]: unknown }> }> };
  download(urlOrImage: string | { image_url?: string }): Promise<Uint8Array>;
}

export interface ErrorFields {
  code?: string | null;
  status?: number | null;
  body?: unknown;
  headers?: Headers | null;
}

export declare class SeedanceError extends Error {
  constructor(message: string, fields?: ErrorFields);
  code: string | null;
  status: number | null;
  body: unknown;
  headers: Headers | null;
}
export declare class AuthenticationError extends SeedanceError {}
export declare class InsufficientCreditsError extends SeedanceError {}
export declare class InvalidRequestError extends SeedanceError {}
export declare class PermissionDeniedError extends InvalidRequestError {}
export declare class ConflictError extends InvalidRequestError {}
export declare class NotFoundError extends SeedanceError {}
export declare class APIError extends SeedanceError {}
export declare class APIConnectionError extends SeedanceError {}
export declare class WaitTimeoutError extends SeedanceError {}
export declare class WebhookVerificationError extends SeedanceError {}
export declare class RateLimitError extends SeedanceError {
  /** The Retry-After header, in seconds. */
  retryAfter: number | null;
}
export declare class GenerationFailedError extends SeedanceError {
  constructor(task: Image);
  task: Image;
}

export declare function verifyWebhook(
  payload: string | Uint8Array,
  signature: string | null | undefined,
  secret: string,
): boolean;

export declare class Webhook {
  constructor(secret: string | Uint8Array, options?: { tolerance?: number });
  sign(msgId: string, timestamp: number, payload: string | Uint8Array): string;
  verify(payload: string | Uint8Array, headers: Headers | Record<string, string | string[] | undefined>): unknown;
}
