/** The dev IdP's public metadata: the discovery document and the JWKS (both readable by any origin). */
import type { ServerResponse } from 'node:http';
import { sendJson } from './http';
import { DEV_IDP_ALGORITHMS, type KeyRing } from './keys';

/** The endpoints' paths, relative to the issuer. */
export const DEV_IDP_PATHS = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/jwks',
  authorize: '/authorize',
  token: '/token',
  rotate: '/rotate',
} as const;

/** The claims the dev IdP puts in its ID tokens. */
export const DEV_IDP_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'amr',
  'email',
  'email_verified',
];

/** The OpenID Provider Metadata of an issuer (OpenID Connect Discovery 1.0, section 3). */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}${DEV_IDP_PATHS.authorize}`,
    token_endpoint: `${issuer}${DEV_IDP_PATHS.token}`,
    jwks_uri: `${issuer}${DEV_IDP_PATHS.jwks}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...DEV_IDP_ALGORITHMS],
    scopes_supported: ['openid', 'email'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: DEV_IDP_CLAIMS,
    authorization_response_iss_parameter_supported: true,
  };
}

/** Public, so any origin may read it (a browser app discovers the endpoints itself). */
const PUBLIC = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-cache' };

/** GET /.well-known/openid-configuration. */
export function serveDiscovery(res: ServerResponse, issuer: string): void {
  sendJson(res, 200, discoveryDocument(issuer), PUBLIC);
}

/** GET /jwks: the current keys and those of the generation before. */
export function serveJwks(res: ServerResponse, keys: KeyRing): void {
  sendJson(res, 200, keys.publicJwks(), { ...PUBLIC, 'Content-Type': 'application/jwk-set+json' });
}
