/**
 * A scripted stand-in for the TVM API, as a fetch function: each call takes the next answer
 * from a queue (or a default), and every request is recorded for assertions.
 */
import {
  MemorySessionStore,
  TvmClient,
  type FetchFunction,
  type SessionResult,
  type ShareAccess,
  type ShareSummary,
  type TvmClientOptions,
  type VendResult,
} from '@serverless-tvm/client';

export interface RecordedRequest {
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** One scripted answer: a Response, an Error to throw (a network failure), or 'hang' (never answers, until aborted). */
export type Answer = Response | Error | 'hang' | ((request: RecordedRequest) => Response | Promise<Response>);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function apiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  field?: string,
): Response {
  return json(status, { error: { code, message, ...(field ? { field } : {}) } }, headers);
}

export const storage = {
  bucket: 'files-bucket',
  prefix: 'alice/',
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:9000',
  usage: { bytes: 1234, objects: 2, quotaBytes: null, overQuota: false },
};

let serial = 0;

/** Credentials that expire `lifetimeMs` after Date.now() (which fake timers control). */
export function vendResult(lifetimeMs = 3_600_000): VendResult {
  serial++;
  return {
    credentials: {
      accessKeyId: `ASIAFAKE${serial}`,
      secretAccessKey: `secret-${serial}`,
      sessionToken: `session-token-${serial}`,
      // A Date, as the client hands it out; JSON.stringify sends it as the API does, in ISO 8601.
      expiration: new Date(Date.now() + lifetimeMs),
    },
    storage,
  };
}

export function sessionResult(username = 'alice', lifetimeMs = 3_600_000): SessionResult {
  return {
    ...vendResult(lifetimeMs),
    username,
    session: { token: `bearer-${username}-${serial}`, expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
  };
}

export class FakeTvm {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Answer[] = [];

  constructor(
    private readonly fallback: (request: RecordedRequest) => Answer | Promise<Response> = () =>
      new Error('no answer scripted'),
  ) {}

  /** Queues answers for the next calls, in order. */
  answer(...answers: Answer[]): this {
    this.queue.push(...answers);
    return this;
  }

  callsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  readonly fetch: FetchFunction = async (input, init) => {
    const url = new URL(input);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const request: RecordedRequest = {
      path: url.pathname,
      method: init.method ?? 'GET',
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    this.requests.push(request);
    const answer = this.queue.shift() ?? this.fallback(request);
    if (answer === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () =>
          reject(new DOMException('The operation was aborted.', 'AbortError')),
        );
      });
    }
    if (answer instanceof Promise) return answer;
    if (answer instanceof Error) throw answer;
    if (typeof answer === 'function') return answer(request);
    return answer;
  };
}

/** A client of `tvm` whose stored session (alice's, valid for a day) is already logged in. */
export function loggedInClient(tvm: FakeTvm, options: Partial<TvmClientOptions> = {}): TvmClient {
  return new TvmClient({
    baseUrl: 'https://tvm.example.com',
    fetch: tvm.fetch,
    sessionStore: new MemorySessionStore({
      username: 'alice',
      token: 'bearer-stored',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    }),
    ...options,
  });
}

/** A share as the API sends it: alice's `photos/` for bob, read-only, until revoked unless `overrides` say otherwise. */
export function shareSummary(overrides: Partial<ShareSummary> = {}): ShareSummary {
  serial++;
  return {
    id: `share${serial}`.padEnd(32, 'x'),
    owner: 'alice',
    path: 'photos/',
    grantee: 'bob',
    access: 'read',
    expiresAt: null,
    createdAt: new Date(Date.now()).toISOString(),
    ...overrides,
  };
}

/**
 * `POST /shares/{id}/credentials`' answer as JSON: STS credentials for `lifetimeMs` after Date.now()
 * (fake timers control it), the share's end `expiresAt` (ISO 8601 or null) and storage under `prefix`.
 */
export function shareCredentials(
  options: {
    readonly lifetimeMs?: number;
    readonly expiresAt?: string | null;
    readonly prefix?: string;
    readonly access?: ShareAccess;
  } = {},
): Record<string, unknown> {
  serial++;
  return {
    credentials: {
      accessKeyId: `ASIASHARE${serial}`,
      secretAccessKey: `share-secret-${serial}`,
      sessionToken: `share-token-${serial}`,
      expiration: new Date(Date.now() + (options.lifetimeMs ?? 3_600_000)).toISOString(),
    },
    storage: { ...storage, prefix: options.prefix ?? 'alice/photos/' },
    access: options.access ?? 'read',
    expiresAt: options.expiresAt ?? null,
  };
}
