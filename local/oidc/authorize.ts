/**
 * The dev IdP's authorization endpoint (authorization code flow with PKCE S256, required): GET
 * shows a sign-in page where any subject may be typed; POST (the page's form) issues a
 * single-use code and redirects back to the app with it. A request whose client or
 * redirect_uri is not registered gets an error page and never a redirect (RFC 6749 section
 * 4.1.2.1), so the endpoint cannot be used to bounce a browser anywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FormError, readForm, single } from './http';

/** How long an authorization code can be exchanged, in ms. */
export const CODE_LIFETIME_MS = 60_000;
/** At most this many codes wait to be exchanged; the oldest are dropped beyond it. */
const MAX_PENDING_CODES = 1_000;
/** Longest `sub` (OpenID Connect Core: at most 255 ASCII characters). */
export const SUBJECT_MAX_CHARACTERS = 255;
const EMAIL_MAX_CHARACTERS = 254;
/** The longest state and nonce the endpoint carries through. */
const STATE_MAX_CHARACTERS = 512;

/** A client the dev IdP knows: its id and the origins its redirect_uri may have. */
export interface DevIdpClient {
  readonly clientId: string;
  /** e.g. `http://localhost:3000`; any path on these origins is a valid redirect_uri. */
  readonly redirectOrigins: readonly string[];
}

/** What a code stands for, until it is exchanged at /token. */
export interface IssuedCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce?: string;
  readonly subject: string;
  readonly email?: string;
  readonly amr: readonly string[];
  /** Epoch seconds of the sign-in (the token's `auth_time`). */
  readonly authTime: number;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** The codes issued and not yet exchanged. A code is taken (removed) by its first use, valid or not. */
export class CodeStore {
  private readonly codes = new Map<string, IssuedCode>();

  constructor(private readonly now: () => number) {}

  /** Stores what a new code stands for and returns the code (256 random bits, base64url). */
  issue(grant: Omit<IssuedCode, 'expiresAt'>): string {
    for (const [code, issued] of this.codes) if (issued.expiresAt <= this.now()) this.codes.delete(code);
    while (this.codes.size >= MAX_PENDING_CODES) this.codes.delete(this.codes.keys().next().value as string);
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { ...grant, expiresAt: this.now() + CODE_LIFETIME_MS });
    return code;
  }

  /** Removes the code and returns what it stood for, if it existed and has not expired. */
  take(code: string): IssuedCode | undefined {
    const issued = this.codes.get(code);
    this.codes.delete(code);
    return issued && issued.expiresAt > this.now() ? issued : undefined;
  }
}

/** A PKCE S256 challenge: the base64url SHA-256 of a verifier, always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** The authorization request's parameters, once checked. */
interface AuthorizeRequest {
  readonly client: DevIdpClient;
  readonly redirectUri: string;
  readonly state?: string;
  readonly nonce?: string;
  readonly codeChallenge: string;
}

type Checked =
  | { readonly ok: true; readonly request: AuthorizeRequest }
  /** Client or redirect_uri unusable: show the error, never redirect. */
  | { readonly ok: false; readonly page: string }
  /** Anything else: tell the app, at its redirect_uri. */
  | { readonly ok: false; readonly redirect: string };

/** Whether `uri` is an absolute http(s) URL, without fragment or user info, on one of the client's origins. */
function registered(client: DevIdpClient, uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.hash === '' &&
    !uri.includes('#') &&
    url.username === '' &&
    url.password === '' &&
    client.redirectOrigins.includes(url.origin)
  );
}

/** The redirect carrying `params` (and the issuer, RFC 9207) back to the app. */
function redirectTo(redirectUri: string, params: Record<string, string | undefined>, issuer: string): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set('iss', issuer);
  return url.toString();
}

function check(params: URLSearchParams, clients: readonly DevIdpClient[], issuer: string): Checked {
  const clientId = single(params, 'client_id');
  const client = clients.find((candidate) => candidate.clientId === clientId);
  if (!client) return { ok: false, page: 'Unknown client_id: this identity provider knows only the sandbox web app.' };
  const redirectUri = single(params, 'redirect_uri');
  if (redirectUri === undefined || !registered(client, redirectUri))
    return {
      ok: false,
      page: `redirect_uri must be a URL on one of the registered origins: ${client.redirectOrigins.join(', ')}.`,
    };
  const state = single(params, 'state');
  const fail = (error: string, description: string): Checked => ({
    ok: false,
    redirect: redirectTo(redirectUri, { error, error_description: description, state }, issuer),
  });
  if (state !== undefined && state.length > STATE_MAX_CHARACTERS)
    return fail('invalid_request', `state is longer than ${STATE_MAX_CHARACTERS} characters.`);
  if (single(params, 'response_type') !== 'code')
    return fail('unsupported_response_type', 'Only response_type=code is supported.');
  if (!(single(params, 'scope') ?? '').split(' ').includes('openid'))
    return fail('invalid_scope', 'scope must include openid.');
  if (single(params, 'code_challenge_method') !== 'S256')
    return fail('invalid_request', 'PKCE is required: code_challenge_method must be S256.');
  const codeChallenge = single(params, 'code_challenge');
  if (codeChallenge === undefined || !S256_CHALLENGE.test(codeChallenge))
    return fail(
      'invalid_request',
      'code_challenge must be the base64url SHA-256 of the code_verifier (43 characters).',
    );
  const nonce = single(params, 'nonce');
  if (nonce !== undefined && nonce.length > STATE_MAX_CHARACTERS)
    return fail('invalid_request', `nonce is longer than ${STATE_MAX_CHARACTERS} characters.`);
  return {
    ok: true,
    request: {
      client,
      redirectUri,
      codeChallenge,
      ...(state !== undefined ? { state } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] as string,
  );
}

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#111}' +
  'label{display:block;margin-top:1rem;font-weight:600}input[type=text],input[type=email]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}' +
  '.check{font-weight:400}button{margin-top:1.5rem;margin-right:.5rem;padding:.5rem 1.25rem;font:inherit}' +
  '[role=alert]{color:#a00;font-weight:600}.hint{color:#444;font-size:.9rem}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** The page's headers: no scripts at all, its own style only, no framing, forms only to itself and the client. */
function pageHeaders(formTargets: readonly string[]): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // form-action covers the redirect after the POST, hence the client's origins.
    'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self' ${formTargets.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function errorPage(res: ServerResponse, message: string): void {
  res.writeHead(400, pageHeaders([]));
  res.end(
    page(
      'Sign-in error - TVM sandbox identity provider',
      `<h1>Sign-in error</h1><p role="alert">${escapeHtml(message)}</p>`,
    ),
  );
}

/** The parameters the form carries through from the authorization request. */
const CARRIED = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
];

function signInPage(
  res: ServerResponse,
  params: URLSearchParams,
  request: AuthorizeRequest,
  status: number,
  values: { subject?: string; email?: string; error?: string } = {},
): void {
  const hidden = CARRIED.map((name) => single(params, name))
    .map((value, index) =>
      value === undefined
        ? ''
        : `<input type="hidden" name="${CARRIED[index] as string}" value="${escapeHtml(value)}">`,
    )
    .join('');
  const error = values.error ? `<p role="alert" id="error">${escapeHtml(values.error)}</p>` : '';
  const describedBy = values.error ? ' aria-describedby="error" aria-invalid="true"' : '';
  res.writeHead(status, pageHeaders(request.client.redirectOrigins));
  res.end(
    page(
      'Sign in - TVM sandbox identity provider',
      `<h1>Sign in to the sandbox identity provider</h1>
<p class="hint">A development identity provider: anyone can be anyone here. Type the subject (the user id) to sign in as; <strong>${escapeHtml(request.client.clientId)}</strong> gets an ID token for it.</p>
${error}<form method="post" action="authorize">${hidden}
<label for="subject">Subject (user id)</label>
<input type="text" id="subject" name="subject" required maxlength="${SUBJECT_MAX_CHARACTERS}" autocomplete="off" autofocus value="${escapeHtml(values.subject ?? '')}"${describedBy}>
<label for="email">Email (optional)</label>
<input type="email" id="email" name="email" maxlength="${EMAIL_MAX_CHARACTERS}" autocomplete="off" value="${escapeHtml(values.email ?? '')}">
<label class="check"><input type="checkbox" name="mfa" value="1"> I used a second factor (the token's <code>amr</code> includes <code>mfa</code>)</label>
<button type="submit" name="action" value="sign-in">Sign in</button><button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
    ),
  );
}

/** What a typed subject or email breaks, if anything. */
function signInError(subject: string | undefined, email: string | undefined): string | undefined {
  if (subject === undefined) return 'Type a subject.';
  if (subject.length > SUBJECT_MAX_CHARACTERS || !/^[\x21-\x7e]+$/.test(subject))
    return `The subject must be 1-${SUBJECT_MAX_CHARACTERS} visible ASCII characters, without spaces.`;
  if (email !== undefined && (email.length > EMAIL_MAX_CHARACTERS || !/^[^\s@]+@[^\s@]+$/.test(email)))
    return 'The email must look like name@example.com, or be left empty.';
  return undefined;
}

/** GET /authorize and POST /authorize (the sign-in form). */
export async function handleAuthorize(
  req: IncomingMessage,
  res: ServerResponse,
  context: {
    readonly issuer: string;
    readonly clients: readonly DevIdpClient[];
    readonly codes: CodeStore;
    readonly now: () => number;
  },
): Promise<void> {
  let params: URLSearchParams;
  if (req.method === 'GET') params = new URL(req.url ?? '/', context.issuer).searchParams;
  else {
    try {
      params = await readForm(req);
    } catch (error) {
      if (error instanceof FormError) return errorPage(res, error.message);
      throw error;
    }
  }
  const checked = check(params, context.clients, context.issuer);
  if (!checked.ok) {
    if ('page' in checked) return errorPage(res, checked.page);
    res.writeHead(303, { Location: checked.redirect, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const { request } = checked;
  if (req.method === 'GET') return signInPage(res, params, request, 200);

  if (single(params, 'action') === 'cancel') {
    const location = redirectTo(
      request.redirectUri,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in.', state: request.state },
      context.issuer,
    );
    res.writeHead(303, { Location: location, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const subject = single(params, 'subject')?.trim() || undefined;
  const email = single(params, 'email')?.trim() || undefined;
  const problem = signInError(subject, email);
  if (problem !== undefined || subject === undefined)
    return signInPage(res, params, request, 400, { subject: subject ?? '', email: email ?? '', error: problem });
  const code = context.codes.issue({
    clientId: request.client.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    subject,
    amr: single(params, 'mfa') === '1' ? ['pwd', 'mfa'] : ['pwd'],
    authTime: Math.floor(context.now() / 1000),
    ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
    ...(email !== undefined ? { email } : {}),
  });
  res.writeHead(303, {
    Location: redirectTo(request.redirectUri, { code, state: request.state }, context.issuer),
    'Cache-Control': 'no-store',
  });
  res.end();
}
