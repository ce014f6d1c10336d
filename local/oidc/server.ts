/**
 * The sandbox's development identity provider (OpenID Connect), on 127.0.0.1 only: discovery,
 * JWKS, an authorization endpoint with a sign-in page (code flow, PKCE S256 required), a token
 * endpoint, and `POST /rotate` for new signing keys. Its issuer is `http://127.0.0.1:<port>`.
 *
 * In the same process (tests), the returned {@link DevIdp} also mints tokens with chosen
 * claims and keys, counts the requests for its keys, and can make its metadata fail or hang;
 * none of that is reachable over HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isOwnHost } from '../api-gateway/api-server';
import { listenOnLoopback } from '../shared/listen';
import { CodeStore, handleAuthorize, type DevIdpClient } from './authorize';
import { DEV_IDP_PATHS, serveDiscovery, serveJwks } from './discovery';
import { sendJson, sendOAuthError } from './http';
import { KeyRing, type DevIdpAlgorithm, type KeyGeneration } from './keys';
import { ID_TOKEN_LIFETIME_SECONDS } from './token';
import { handleToken } from './token';

export type { DevIdpClient } from './authorize';
export type { DevIdpAlgorithm, KeyGeneration } from './keys';

/** The client id of the sandbox's web app at the dev IdP (the `dev` provider's audience). */
export const DEV_IDP_CLIENT_ID = 'tvm-web';
/** The name the sandbox configures the dev IdP under in `oidcProviders`. */
export const DEV_IDP_PROVIDER_NAME = 'dev';
/** The dev IdP's default port on 127.0.0.1 (OIDC_PORT): fixed, so its issuer, and the identities linked to it, survive restarts. */
export const DEV_IDP_DEFAULT_PORT = 3002;

/** Options of {@link startDevIdp}. */
export interface DevIdpOptions {
  /** Port on 127.0.0.1; 0 = any free port. */
  readonly port: number;
  /** The clients it knows (at least one). */
  readonly clients: readonly DevIdpClient[];
  /** Print one line per request. Default false. */
  readonly log?: boolean;
}

/** What the discovery document and the JWKS answer (tests): normally, 503, or never (held until `ok` or stop). */
export type MetadataMode = 'ok' | 'down' | 'hang';

/** Options of {@link DevIdp.mint}. */
export interface MintOptions {
  /** Default RS256. */
  readonly alg?: DevIdpAlgorithm;
  /** Default the current keys; `previous` = the generation kept from before the last rotation. */
  readonly generation?: KeyGeneration;
  /** Added to, or overriding, the protected header (e.g. a made-up `kid`). */
  readonly header?: Record<string, unknown>;
}

/** A running dev IdP. */
export interface DevIdp {
  /** `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  readonly clients: readonly DevIdpClient[];
  /**
   * Signs an ID token in-process (tests only; never offered over HTTP). `claims` go over the
   * defaults {iss, sub (random), aud (the first client), iat, exp (+300 s), amr}; a claim set
   * to `undefined` is left out.
   */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** New signing keys, as `POST /rotate` does; the previous ones stay published for one rotation. */
  rotate(): Promise<void>;
  /** The current key ids. */
  currentKids(): Record<DevIdpAlgorithm, string>;
  /** The JWKS it publishes, read in-process (not counted in {@link DevIdp.hits}). */
  jwks(): { keys: JWK[] };
  /** How many requests its discovery document and its JWKS have received (every answer, failed ones too). */
  hits(): { discovery: number; jwks: number };
  /** Makes the discovery document and the JWKS answer normally, 503, or never (tests). */
  setMetadataMode(mode: MetadataMode): void;
  /** Stops the server; resolves when it is closed. */
  stop(): Promise<void>;
}

/** Starts a dev IdP on 127.0.0.1. */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  if (options.clients.length === 0) throw new Error('The dev IdP needs at least one client.');
  const now = () => Date.now();
  const keys = await KeyRing.create();
  const codes = new CodeStore(now);
  const hits = { discovery: 0, jwks: 0 };
  let mode: MetadataMode = 'ok';
  const held: ServerResponse[] = [];
  let port = 0;
  const issuer = () => `http://127.0.0.1:${port}`;

  /** Discovery and JWKS, after the fault switch. */
  const metadata = (res: ServerResponse, serve: () => void) => {
    if (mode === 'down')
      return sendOAuthError(res, 503, 'temporarily_unavailable', 'The identity provider is down (test switch).', {
        'Retry-After': '1',
      });
    if (mode === 'hang') {
      held.push(res);
      return;
    }
    serve();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // A page at some other name rebound to 127.0.0.1 must not drive the IdP (DNS rebinding).
    if (!isOwnHost(req.headers.host, port))
      return sendOAuthError(res, 421, 'invalid_request', `This identity provider answers only for ${issuer()}.`);
    const path = new URL(req.url ?? '/', issuer()).pathname;
    if (path === DEV_IDP_PATHS.discovery && req.method === 'GET') {
      hits.discovery += 1;
      return metadata(res, () => serveDiscovery(res, issuer()));
    }
    if (path === DEV_IDP_PATHS.jwks && req.method === 'GET') {
      hits.jwks += 1;
      return metadata(res, () => serveJwks(res, keys));
    }
    if (path === DEV_IDP_PATHS.authorize && (req.method === 'GET' || req.method === 'POST'))
      return handleAuthorize(req, res, { issuer: issuer(), clients: options.clients, codes, now });
    if (path === DEV_IDP_PATHS.token)
      return handleToken(req, res, { issuer: issuer(), clients: options.clients, codes, keys, now });
    if (path === DEV_IDP_PATHS.rotate && req.method === 'POST') {
      // Browsers send Origin on a cross-origin POST: no web page may rotate the keys; curl can.
      if (req.headers.origin !== undefined)
        return sendOAuthError(res, 403, 'access_denied', 'Rotate the keys from the command line (curl), not a page.');
      await keys.rotate();
      return sendJson(res, 200, { kids: keys.currentKids() });
    }
    sendOAuthError(res, 404, 'not_found', `No such endpoint; see ${issuer()}${DEV_IDP_PATHS.discovery}.`);
  };

  const server: Server = createServer((req, res) => {
    if (options.log)
      res.on('finish', () => console.log(`[dev idp] ${req.method} ${req.url?.split('?')[0]} ${res.statusCode}`));
    handle(req, res).catch((error: unknown) => {
      console.error('[dev idp] error:', error instanceof Error ? error.message : error);
      if (!res.headersSent) sendOAuthError(res, 500, 'server_error', 'The identity provider failed.');
      else res.destroy();
    });
  });
  port = await listenOnLoopback(server, options.port);

  const release = () => {
    for (const res of held.splice(0)) metadata(res, () => serveDiscoveryOrJwks(res));
  };
  // A held answer, once released, is served as what was asked.
  const serveDiscoveryOrJwks = (res: ServerResponse) => {
    const path = new URL(res.req.url ?? '/', issuer()).pathname;
    if (path === DEV_IDP_PATHS.jwks) serveJwks(res, keys);
    else serveDiscovery(res, issuer());
  };

  return {
    issuer: issuer(),
    clients: options.clients,
    mint(claims = {}, mintOptions = {}) {
      const iat = Math.floor(now() / 1000);
      const merged: Record<string, unknown> = {
        iss: issuer(),
        sub: `minted-${randomUUID()}`,
        aud: (options.clients[0] as DevIdpClient).clientId,
        iat,
        exp: iat + ID_TOKEN_LIFETIME_SECONDS,
        amr: ['pwd'],
        ...claims,
      };
      for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
      return keys.sign(merged, mintOptions);
    },
    rotate: () => keys.rotate(),
    currentKids: () => keys.currentKids(),
    jwks: () => keys.publicJwks(),
    hits: () => ({ ...hits }),
    setMetadataMode(next) {
      mode = next;
      if (mode !== 'hang') release();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of held.splice(0)) res.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
