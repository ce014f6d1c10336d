/**
 * The OpenID Connect providers the page offers ("Sign in with <name>"): what the server that
 * serves the page tells it in the `tvm-oidc-providers` meta tag (web/build.ts, web/serve.ts).
 * Public configuration, nothing secret: a browser app is a public client (PKCE, no secret).
 */

/** One provider as the page sees it. */
export interface WebOidcProvider {
  /** The provider's name in the TVM's `oidcProviders` setting, sent to `POST /login/oidc`. */
  readonly name: string;
  /** The issuer; the page reads `<issuer>/.well-known/openid-configuration` for its endpoints. */
  readonly issuer: string;
  /** The page's client id at the provider: one of the setting's audiences (the first, by default). */
  readonly clientId: string;
}

/** The page's providers from the TVM's `oidcProviders` setting: each one's client id is its first audience. */
export function webProvidersFrom(
  providers: readonly { readonly name: string; readonly issuer: string; readonly audiences: readonly string[] }[],
): WebOidcProvider[] {
  return providers.flatMap((provider) => {
    const clientId = provider.audiences[0];
    return clientId === undefined ? [] : [{ name: provider.name, issuer: provider.issuer, clientId }];
  });
}

const isString = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** Reads the meta tag's JSON; anything malformed offers no providers rather than failing the page. */
export function parseWebProviders(text: string): WebOidcProvider[] {
  let list: unknown;
  try {
    list = JSON.parse(text) as unknown;
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { name, issuer, clientId } = entry as Record<string, unknown>;
    return isString(name) && isString(issuer) && isString(clientId) ? [{ name, issuer, clientId }] : [];
  });
}
