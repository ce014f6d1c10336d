/**
 * A tiny OpenID Connect provider on 127.0.0.1 for tests: discovery and JWKS with fetch counters
 * and switches for faults, keys generated with jose (never written anywhere), and minting. For tests only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey as JoseKey, type JWK } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: JoseKey;
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A provider on 127.0.0.1: discovery and JWKS, with fetch counters and switches for faults. */
export class LocalProvider {
  keys: SigningKey[] = [];
  algs: string[] = ['RS256', 'ES256'];
  jwksFetches = 0;
  discoveryFetches = 0;
  jwksStatus = 200;
  jwksDelayMs = 0;
  discoveryIssuer?: string;
  private server!: Server;
  issuer = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.url === '/.well-known/openid-configuration') {
        this.discoveryFetches += 1;
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            issuer: this.discoveryIssuer ?? this.issuer,
            jwks_uri: `${this.issuer}/jwks`,
            id_token_signing_alg_values_supported: this.algs,
          }),
        );
        return;
      }
      if (request.url === '/jwks') {
        this.jwksFetches += 1;
        const answer = () => {
          response.statusCode = this.jwksStatus;
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ keys: this.keys.map((key) => key.jwk) }));
        };
        if (this.jwksDelayMs > 0) setTimeout(answer, this.jwksDelayMs).unref();
        else answer();
        return;
      }
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Signs `claims` (over defaults for `issuer` and `audience`) with `key`. */
export function mintToken(
  key: SigningKey,
  issuer: string,
  audience: string,
  claims: Record<string, unknown>,
  nowMs = Date.now(),
): Promise<string> {
  const seconds = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = { iss: issuer, aud: audience, iat: seconds, exp: seconds + 300, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
}
