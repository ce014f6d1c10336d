/**
 * The app-side client of the TVM API. It uses `fetch` and nothing else, so it runs in
 * browsers, React Native and Node 20+.
 */
import { parseStorageUsage } from './usage';
import {
  errorFromResponse,
  InvalidCredentialsError,
  LoginRequiredError,
  NetworkError,
  TimeoutError,
  TvmClientError,
  UnexpectedResponseError,
  SecondFactorRequiredError,
  type MfaChallenge,
} from './errors';
import { Connectivity } from './connectivity';
import { stepUpBody, type PasskeyStepUp, type SecondFactor, type StepUp } from './mfa';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  retryAfterOnlyDelayMs,
  retryDelayMs,
  type RetryPolicy,
} from './retry';
import { MemoryDeviceTokenStore, type DeviceTokenStore } from './device-tokens';
import { MemorySessionStore, type SessionStore, type StoredSession } from './session-store';
import type {
  OidcNonce,
  RequestPlan,
  SessionResult,
  SessionSummary,
  StorageInfo,
  StorageUsage,
  TvmCredentials,
  VendResult,
} from './types';
import { parseOidcNonce, type IdTokenLogin } from './identities';
export type { RequestPlan } from './types';

/** The subset of `fetch` the client uses; pass your own to add headers, logging or a test double. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link TvmClient}. */
export interface TvmClientOptions {
  /** The API's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1`. Trailing slash optional. */
  readonly baseUrl: string;
  /**
   * Where the login session is kept between app starts. Default: in memory only
   * ({@link MemorySessionStore}). A store that fails to write is tolerated: the session then
   * lives in memory only.
   */
  readonly sessionStore?: SessionStore;
  /** How long one attempt may take, body included, before it is abandoned. Default 10,000 ms. */
  readonly timeoutMs?: number;
  /** Retry rules for the calls that are safe to repeat. Default {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** A label for this device, sent with every login (the TVM stores it with the session). Default: none. */
  readonly device?: string;
  /** Where the device tokens logins return are kept, per username. Default: in memory ({@link MemoryDeviceTokenStore}). */
  readonly deviceTokens?: DeviceTokenStore;
  /** Default `globalThis.fetch`. */
  readonly fetch?: FetchFunction;
  /** The jitter source, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** The current time in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Where the client reports whether the TVM answered. Default: a new {@link Connectivity}. */
  readonly connectivity?: Connectivity;
}

/** What {@link TvmClient.onSessionChange} listeners are told. */
export type SessionEvent =
  /** A register or login succeeded; `result` carries its fresh credentials. */
  | { readonly type: 'signedIn'; readonly username: string; readonly result: SessionResult }
  /**
   * The session ended: the app logged out, the TVM refused the session (`rejected`: a 401 from
   * `/token`, after a revocation, a disable or a delete), or it ran out (`expired`).
   */
  | { readonly type: 'signedOut'; readonly reason: 'logout' | 'rejected' | 'expired' };

/** A listener of {@link TvmClient.onSessionChange}. */
export type SessionListener = (event: SessionEvent) => void;

/**
 * What {@link TvmClient.onCredentials} listeners are told each time the TVM vends credentials
 * for this client's session (register, login, reset, `/token`): where the files are and, with
 * `usage`, what the folder holds against its quota at that moment.
 */
export interface CredentialsEvent {
  readonly type: 'credentials';
  readonly username: string;
  readonly storage: StorageInfo;
  /** `storage.usage`, repeated for convenience. */
  readonly usage: StorageUsage;
  /** When these credentials expire. */
  readonly expiration: Date;
}

/** A listener of {@link TvmClient.onCredentials}. */
export type CredentialsListener = (event: CredentialsEvent) => void;

/**
 * Registers, logs in, vends credentials and logs out against one TVM.
 *
 * Retry rules: `token()` and `logout()` are retried on 503 (honouring Retry-After), network
 * errors and timeouts, with exponential backoff and jitter, up to `retry.maxAttempts`.
 * `register()`, `login()` and `resetPassword()` are retried only on a 503 that carries
 * Retry-After (the TVM did nothing: e.g. the user's credentials were cut off moments ago and
 * new ones can be issued in a few seconds), after waiting as asked: a login attempt counts
 * against the account's lockout and a lost answer may already have created a session or a
 * user. No 4xx is retried.
 *
 * For AWS SDK v3 clients, wrap the client in {@link fromTvm}.
 */
export class TvmClient {
  private readonly baseUrl: string;
  private readonly store: SessionStore;
  private readonly timeoutMs: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly device: string | undefined;
  private readonly deviceTokens: DeviceTokenStore;
  private readonly fetchFn: FetchFunction;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly listeners = new Set<SessionListener>();
  private readonly credentialListeners = new Set<CredentialsListener>();
  /** The `storage.usage` of the session's latest credentials. */
  private latestUsage: StorageUsage | undefined;
  /**
   * Online or offline, as the last request found the TVM (storage helpers report S3 here too).
   * Offline never ends the session: only a 401 from `/token` does.
   */
  readonly connectivity: Connectivity;
  /** The session in memory, once read from the store. */
  private session: Promise<StoredSession | undefined> | undefined;

  constructor(options: TvmClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.store = options.sessionStore ?? new MemorySessionStore();
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.device = options.device;
    this.deviceTokens = options.deviceTokens ?? new MemoryDeviceTokenStore();
    const globalFetch = globalThis.fetch as FetchFunction | undefined;
    // Bound, because browsers throw "Illegal invocation" when fetch is called off `window`.
    this.fetchFn =
      options.fetch ??
      ((input, init) =>
        globalFetch ? globalFetch(input, init) : Promise.reject(new Error('No fetch here: pass options.fetch.')));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.connectivity = options.connectivity ?? new Connectivity();
  }

  /**
   * Creates an account and logs it in, with the client's `device` label on the session. Retried only on a 503 with Retry-After, after that wait.
   * @param options.device overrides the client's `device` label for this session.
   * @param options.invite a single-use invite code, where the TVM's `registration` setting is `invite`.
   * @throws InvalidRequestError (which field, why), UsernameTakenError, InviteRequiredError (no invite, or
   *   one that is unknown, used or expired), RegistrationClosedError (sign-up is closed: the operator makes
   *   accounts), ServiceUnavailableError, NetworkError, TimeoutError.
   */
  async register(
    username: string,
    password: string,
    options: { readonly device?: string; readonly invite?: string } = {},
  ): Promise<SessionResult> {
    const device = options.device ?? this.device;
    const body = {
      username,
      password,
      ...(device !== undefined ? { device } : {}),
      ...(options.invite !== undefined ? { invite: options.invite } : {}),
    };
    const result = parseSessionResult(await this.send({ path: '/register', body, retry: 'retry-after' }));
    await this.keepDeviceToken(result);
    await this.signIn(result);
    return result;
  }

  /**
   * Logs in and keeps the session. Retried only on a 503 with Retry-After, after that wait.
   * @param options.device overrides the client's `device` label for this login.
   * @throws InvalidCredentialsError (one answer for unknown user and wrong password),
   *   TooManyAttemptsError (with `retryAfterSeconds`), InvalidRequestError, ServiceUnavailableError, NetworkError, TimeoutError.
   */
  async login(username: string, password: string, options: { readonly device?: string } = {}): Promise<SessionResult> {
    const device = options.device ?? this.device;
    const deviceToken = await Promise.resolve(this.deviceTokens.load(username.toLowerCase())).catch(() => undefined);
    const body = {
      username,
      password,
      ...(device !== undefined ? { device } : {}),
      ...(deviceToken ? { deviceToken } : {}),
    };
    const answer = await this.send({ path: '/login', body, retry: 'retry-after' });
    // An account with a second factor answers a challenge instead (docs/mfa.md); the right
    // password still earns the device its trust.
    const challenge = parseMfaChallenge(answer);
    if (challenge) {
      const earned = isRecord(answer) ? answer['deviceToken'] : undefined;
      if (typeof earned === 'string')
        await Promise.resolve(this.deviceTokens.save(username.toLowerCase(), earned)).catch(() => undefined);
      throw new SecondFactorRequiredError('Enter the code from your authenticator app.', { status: 200, challenge });
    }
    return this.acceptLogin(answer);
  }

  /**
   * A single-use nonce (ten minutes) for a sign-in with an outside provider: pass `nonce` to
   * the provider's sign-in (the `nonce` parameter of the authorization request, or of a native
   * sign-in SDK) as it is, then give the ID token to {@link loginWithIdToken}. Retried on
   * transient failures (an unused nonce simply expires).
   */
  async createOidcNonce(): Promise<OidcNonce> {
    return parseOidcNonce(await this.send({ path: '/login/oidc/nonce', retry: true }));
  }

  /**
   * Signs in with an ID token from a configured provider and keeps the session, like
   * {@link login}. The TVM maps the token's (issuer, subject) to one account; an identity it
   * does not know yet needs `username`, which creates a new account (no password) linked to it.
   * An account with a second factor answers its challenge instead, as {@link login} does
   * (SecondFactorRequiredError with `challenge`, for `TvmMfa.completeLogin`), unless the
   * provider is trusted for it. Retried only on a 503 with Retry-After (the TVM did nothing).
   * @throws UsernameRequiredError for an unknown identity without `username` (no account is
   *   created and the nonce is left unspent: send the same token again with one);
   *   RegistrationClosedError or InviteRequiredError for an unknown identity where the TVM's
   *   `registration` setting is `closed`, or `invite` without a valid `invite` (nonce unspent);
   *   UsernameTakenError for a taken name (nonce unspent too);
   *   InvalidCredentialsError for every refused token or a disabled account (one answer);
   *   InvalidRequestError (an unknown provider: field `provider`), ServiceUnavailableError
   *   (the provider's keys could not be fetched), NetworkError, TimeoutError.
   */
  async loginWithIdToken(login: IdTokenLogin): Promise<SessionResult> {
    const device = login.device ?? this.device;
    // A device token is kept per username, which a returning identity's app does not know yet.
    const deviceToken =
      login.username === undefined
        ? undefined
        : await Promise.resolve(this.deviceTokens.load(login.username.toLowerCase())).catch(() => undefined);
    const body = {
      provider: login.provider,
      idToken: login.idToken,
      ...(login.username !== undefined ? { username: login.username } : {}),
      ...(device !== undefined ? { device } : {}),
      ...(deviceToken ? { deviceToken } : {}),
      ...(login.invite !== undefined ? { invite: login.invite } : {}),
    };
    const answer = await this.send({ path: '/login/oidc', body, retry: 'retry-after' });
    const challenge = parseMfaChallenge(answer);
    if (challenge)
      throw new SecondFactorRequiredError('Enter the code from your authenticator app.', { status: 200, challenge });
    return this.acceptLogin(answer);
  }

  /**
   * Keeps the session of a login answered by another route (`POST /login/mfa`). For
   * companion modules of this package (mfa.ts); apps call those.
   * @internal
   */
  async acceptLogin(answer: unknown): Promise<SessionResult> {
    const result = parseSessionResult(answer);
    await this.keepDeviceToken(result);
    await this.signIn(result);
    return result;
  }

  /** Keeps the device token of a register or login; a store that fails only costs the device its trust. */
  private async keepDeviceToken(result: SessionResult): Promise<void> {
    if (result.deviceToken === undefined) return;
    await Promise.resolve(this.deviceTokens.save(result.username, result.deviceToken)).catch(() => undefined);
  }

  /**
   * One API call over this client's transport (timeouts, typed errors, retries when `retry`),
   * with the session's bearer token when `bearer` is true. For companion modules (mfa.ts).
   * @internal
   */
  async call(plan: Omit<RequestPlan, 'bearer'> & { readonly bearer?: boolean }): Promise<unknown> {
    const { bearer, ...rest } = plan;
    return this.send({ ...rest, ...(bearer ? { bearer: (await this.requireSession()).token } : {}) });
  }

  /**
   * Vends fresh credentials for the current session. Retried on transient failures.
   * @throws LoginRequiredError when there is no session or the TVM refuses it (the session is then cleared).
   */
  async token(): Promise<VendResult> {
    const session = await this.getSession();
    if (!session) throw new LoginRequiredError();
    let vend: VendResult;
    try {
      vend = parseVendResult(await this.send({ path: '/token', bearer: session.token, retry: true }));
    } catch (error) {
      if (!(error instanceof InvalidCredentialsError)) throw error;
      await this.endSession(session, 'rejected');
      throw new LoginRequiredError('Login required: the session has expired or was revoked. Log in again.', {
        status: 401,
        cause: error,
      });
    }
    // Only while the session that asked is still this client's (a logout or another login may have landed).
    if ((await this.session)?.token === session.token) this.credentialsIssued(session.username, vend);
    return vend;
  }

  /**
   * What the user's folder holds against its quota, as of the session's latest credentials
   * (register, login or `/token`); undefined before any and after a logout. Never calls the TVM.
   */
  usage(): StorageUsage | undefined {
    return this.latestUsage;
  }

  /**
   * Calls `listener` each time the TVM vends credentials for this client's session, with the
   * storage details and `usage` that came with them (a usage bar follows it). Returns the
   * unsubscribe function. Listeners run synchronously; a throwing listener does not stop the others.
   */
  onCredentials(listener: CredentialsListener): () => void {
    this.credentialListeners.add(listener);
    return () => this.credentialListeners.delete(listener);
  }

  private credentialsIssued(username: string, vend: VendResult): void {
    this.latestUsage = vend.storage.usage;
    const event: CredentialsEvent = {
      type: 'credentials',
      username,
      storage: vend.storage,
      usage: vend.storage.usage,
      expiration: vend.credentials.expiration,
    };
    for (const listener of [...this.credentialListeners]) {
      try {
        listener(event);
      } catch {
        // As for session listeners: one broken listener must not keep the others from hearing.
      }
    }
  }

  /**
   * Ends the session. It is forgotten on this device first (listeners hear `signedOut` at
   * once, so credential providers drop their keys), then revoked at the TVM. The revocation
   * is retried on transient failures: it is idempotent, and a repeat that finds the session
   * already gone (401) counts as done. If it still fails, the error is thrown so the app can
   * say the session may stay valid on the server until it expires; locally it is gone anyway.
   * Without a session, this does nothing.
   */
  async logout(): Promise<void> {
    const session = await this.getSession();
    if (!session) return;
    await this.endSession(session, 'logout');
    try {
      await this.send({ path: '/logout', bearer: session.token, retry: true });
    } catch (error) {
      if (!(error instanceof InvalidCredentialsError)) throw error;
    }
  }

  /**
   * Changes the password. The TVM revokes every session, this one included, and answers with
   * a new session, which the client keeps. Never retried (a wrong current password counts in
   * the lockout).
   * An account with a second factor also gives `secondFactor` (a code, a recovery code or a passkey).
   * @throws LoginRequiredError without a session; InvalidCredentialsError for a wrong current
   *   password or factor; SecondFactorRequiredError without the factor the account has;
   *   InvalidRequestError when the new one breaks the rules (field `newPassword`).
   */
  async changePassword(
    currentPassword: string,
    newPassword: string,
    secondFactor?: SecondFactor | PasskeyStepUp,
  ): Promise<void> {
    const session = await this.requireSession();
    const factor = secondFactor ? stepUpBody(secondFactor) : {};
    const body = await this.send({
      path: '/password',
      body: { currentPassword, newPassword, ...factor },
      bearer: session.token,
      retry: false,
    });
    const fresh = isRecord(body) ? body['session'] : undefined;
    if (!allStrings(fresh, ['token', 'expiresAt']))
      throw new UnexpectedResponseError('The token vending machine sent a malformed session.');
    const replaced: StoredSession = { username: session.username, token: fresh.token, expiresAt: fresh.expiresAt };
    this.session = Promise.resolve(replaced);
    await Promise.resolve()
      .then(() => this.store.save(replaced))
      .catch(() => undefined);
  }

  /**
   * Redeems a one-time reset code from an operator and logs in with the new password, like
   * {@link login}. Retried only on a 503 with Retry-After (a wrong code counts in the lockout).
   */
  async resetPassword(
    username: string,
    resetCode: string,
    newPassword: string,
    secondFactor?: SecondFactor,
  ): Promise<SessionResult> {
    // An account with a second factor also needs a code or recovery code (SecondFactorRequiredError otherwise).
    const result = parseSessionResult(
      await this.send({
        path: '/password/reset',
        body: { username, resetCode, newPassword, ...secondFactor },
        retry: 'retry-after',
      }),
    );
    await this.signIn(result);
    return result;
  }

  /** This user's live sessions (devices), oldest first. Retried on transient failures. */
  async listSessions(): Promise<SessionSummary[]> {
    const session = await this.requireSession();
    const body = await this.send({ method: 'GET', path: '/sessions', bearer: session.token, retry: true });
    const sessions = isRecord(body) ? body['sessions'] : undefined;
    if (!Array.isArray(sessions))
      throw new UnexpectedResponseError('The token vending machine sent a malformed session list.');
    return sessions as SessionSummary[];
  }

  /**
   * Revokes one of this user's sessions by id (e.g. a lost phone's). Another session than this
   * client's needs `stepUp` (on an account with a second factor a code, a recovery code or a
   * passkey; otherwise the current password). Retried on transient
   * failures when no password or code is sent; revoking this client's own session is the same as {@link logout}.
   * @throws NotFoundError when the id is not one of this user's live sessions.
   */
  async revokeSession(sessionId: string, stepUp?: StepUp): Promise<void> {
    const session = await this.requireSession();
    // Another device's session needs the step-up: the account's factor, or the password without one.
    await this.send({
      method: 'DELETE',
      path: `/sessions/${encodeURIComponent(sessionId)}`,
      bearer: session.token,
      retry: stepUp === undefined,
      ...(stepUp ? { body: stepUpBody(stepUp) } : {}),
    });
  }

  /**
   * Deletes this user's account (`DELETE /account`), proven by `stepUp` as the other step-up
   * routes are (the same body, {@link stepUpBody}): on an account with a second factor a code, a
   * recovery code or a passkey; otherwise the current password. The TVM answers 202 and runs the same
   * deletion as the operator's; the session is then over, so the client forgets it (listeners
   * hear `signedOut` with reason `logout`). Never retried (a wrong password counts in the lockout).
   * @returns when the deletion completes at the latest (ISO 8601), as the TVM said.
   * @throws InvalidCredentialsError for a wrong password or code; SecondFactorRequiredError for
   *   the password alone on an account with a factor; LoginRequiredError without a session.
   */
  async deleteAccount(stepUp: StepUp): Promise<{ readonly status: 'pending'; readonly completesAfter: string }> {
    const session = await this.requireSession();
    const body = await this.send({
      method: 'DELETE',
      path: '/account',
      body: stepUpBody(stepUp),
      bearer: session.token,
      retry: false,
    });
    const deletion = isRecord(body) ? body['deletion'] : undefined;
    if (!allStrings(deletion, ['status', 'completesAfter']) || deletion.status !== 'pending') {
      throw new UnexpectedResponseError('The token vending machine sent a malformed deletion answer.');
    }
    await this.endSession(session, 'logout');
    return { status: 'pending', completesAfter: deletion.completesAfter };
  }

  /** The current session or LoginRequiredError. */
  private async requireSession(): Promise<StoredSession> {
    const session = await this.getSession();
    if (!session) throw new LoginRequiredError();
    return session;
  }

  /** The current session, read from the store on first use; undefined when logged out or expired. */
  async getSession(): Promise<StoredSession | undefined> {
    // A store that fails to read counts as "no session", whether it throws or rejects.
    this.session ??= Promise.resolve()
      .then(() => this.store.load())
      .catch(() => undefined);
    const session = await this.session;
    if (session && !(Date.parse(session.expiresAt) > this.now())) {
      await this.endSession(session, 'expired');
      return undefined;
    }
    return session;
  }

  /**
   * Calls `listener` whenever someone logs in or the session ends. Returns the unsubscribe
   * function. Listeners run synchronously; a throwing listener does not stop the others.
   */
  onSessionChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async signIn(result: SessionResult): Promise<void> {
    const session: StoredSession = {
      username: result.username,
      token: result.session.token,
      expiresAt: result.session.expiresAt,
    };
    this.session = Promise.resolve(session);
    this.emit({ type: 'signedIn', username: result.username, result });
    this.credentialsIssued(result.username, result);
    // A store that cannot write (private browsing, a full quota) keeps the session in memory
    // only: the person stays logged in until the app closes, rather than seeing a failed login.
    await Promise.resolve()
      .then(() => this.store.save(session))
      .catch(() => undefined);
  }

  /** Forgets `session` unless a newer login has replaced it meanwhile. */
  private async endSession(session: StoredSession, reason: 'logout' | 'rejected' | 'expired'): Promise<void> {
    const current = await this.session;
    if (current?.token !== session.token) return;
    this.session = Promise.resolve(undefined);
    this.latestUsage = undefined;
    this.emit({ type: 'signedOut', reason });
    // Best effort, like save: the session is already gone from memory, which is what counts here.
    await Promise.resolve()
      .then(() => this.store.clear())
      .catch(() => undefined);
  }

  private emit(event: SessionEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // One broken listener must not keep the others (or the caller) from hearing about a logout.
      }
    }
  }

  private async send(plan: RequestPlan): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(plan);
      } catch (error) {
        const delay =
          plan.retry === 'retry-after'
            ? retryAfterOnlyDelayMs(error, attempt + 1, this.retryPolicy, this.random)
            : plan.retry
              ? retryDelayMs(error, attempt + 1, this.retryPolicy, this.random)
              : undefined;
        if (delay === undefined) throw error;
        await sleep(delay);
      }
    }
  }

  /** One HTTP exchange, body included, under the timeout. */
  private async attempt(plan: RequestPlan): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (plan.body !== undefined) headers['content-type'] = 'application/json';
    if (plan.bearer !== undefined) headers['authorization'] = `Bearer ${plan.bearer}`;
    try {
      const response = await this.fetchFn(this.baseUrl + plan.path, {
        method: plan.method ?? 'POST',
        headers,
        ...(plan.body !== undefined ? { body: JSON.stringify(plan.body) } : {}),
        signal: controller.signal,
      });
      const text = await response.text();
      this.connectivity.markOnline();
      const body = parseJson(text);
      if (response.ok) {
        if (response.status !== 204 && body === undefined) {
          throw new UnexpectedResponseError(
            `The token vending machine answered HTTP ${response.status} without a JSON body.`,
            {
              status: response.status,
            },
          );
        }
        return body;
      }
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.now());
      throw errorFromResponse(
        response.status,
        body,
        retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      );
    } catch (error) {
      if (error instanceof TvmClientError) throw error;
      this.connectivity.markOffline();
      if (controller.signal.aborted) throw new TimeoutError(this.timeoutMs, { cause: error });
      throw new NetworkError(undefined, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function allStrings<K extends string>(
  value: unknown,
  keys: readonly K[],
): value is Record<K, string> & Record<string, unknown> {
  return isRecord(value) && keys.every((key) => typeof value[key] === 'string');
}

function parseVendResult(body: unknown): VendResult {
  if (!isRecord(body)) throw new UnexpectedResponseError('The token vending machine sent no credentials.');
  const { credentials, storage } = body;
  if (
    !allStrings(credentials, ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration']) ||
    Number.isNaN(Date.parse(credentials.expiration))
  ) {
    throw new UnexpectedResponseError('The token vending machine sent malformed credentials.');
  }
  if (!allStrings(storage, ['bucket', 'prefix', 'region'])) {
    throw new UnexpectedResponseError('The token vending machine sent malformed storage details.');
  }
  const endpoint = storage['endpoint'];
  const typedCredentials: TvmCredentials = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: new Date(credentials.expiration),
  };
  const typedStorage: StorageInfo = {
    bucket: storage.bucket,
    prefix: storage.prefix,
    region: storage.region,
    ...(typeof endpoint === 'string' ? { endpoint } : {}),
    usage: parseStorageUsage(storage['usage']),
  };
  return { credentials: typedCredentials, storage: typedStorage };
}

function parseSessionResult(body: unknown): SessionResult {
  const vend = parseVendResult(body);
  const { username, session } = body as Record<string, unknown>;
  if (typeof username !== 'string' || !allStrings(session, ['token', 'expiresAt'])) {
    throw new UnexpectedResponseError('The token vending machine sent a malformed session.');
  }
  const { deviceToken } = body as Record<string, unknown>;
  return {
    ...vend,
    username,
    session: { token: session.token, expiresAt: session.expiresAt },
    ...(typeof deviceToken === 'string' ? { deviceToken } : {}),
  };
}

function parseMfaChallenge(body: unknown): MfaChallenge | undefined {
  if (!isRecord(body) || body['mfaRequired'] !== true) return undefined;
  const { challenge, methods } = body;
  if (!allStrings(challenge, ['token', 'expiresAt']) || !Array.isArray(methods)) {
    throw new UnexpectedResponseError('The token vending machine sent a malformed second-factor challenge.');
  }
  const passkeyOptions = body['passkeyOptions'];
  return {
    token: challenge.token,
    expiresAt: challenge.expiresAt,
    methods: methods.filter((method): method is MfaChallenge['methods'][number] => typeof method === 'string'),
    ...(isRecord(passkeyOptions) ? { passkeyOptions } : {}),
  };
}
