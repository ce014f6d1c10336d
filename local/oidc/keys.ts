/**
 * The dev IdP's signing keys: one RS256 and one ES256 key pair, generated in memory at start
 * (never written anywhere). Rotating makes a new pair of each; the pair before stays published
 * for one rotation, so tokens signed just before a rotation still verify.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

/** The algorithms the dev IdP signs with (its discovery document's `id_token_signing_alg_values_supported`). */
export const DEV_IDP_ALGORITHMS = ['RS256', 'ES256'] as const;
/** One of {@link DEV_IDP_ALGORITHMS}. */
export type DevIdpAlgorithm = (typeof DEV_IDP_ALGORITHMS)[number];

/** One signing key: its private half for signing, its public JWK for the JWKS. */
interface SigningKey {
  readonly alg: DevIdpAlgorithm;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** One generation of keys: one per algorithm. */
type KeySet = Readonly<Record<DevIdpAlgorithm, SigningKey>>;

async function newKey(alg: DevIdpAlgorithm): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint: a kid that names exactly this key.
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, kid, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

async function newKeySet(): Promise<KeySet> {
  const [rs, es] = await Promise.all([newKey('RS256'), newKey('ES256')]);
  return { RS256: rs, ES256: es };
}

/** Which generation of keys signs: the current one (default) or the one kept from before the last rotation. */
export type KeyGeneration = 'current' | 'previous';

/** The dev IdP's keys; {@link KeyRing.create} makes the first generation. */
export class KeyRing {
  private constructor(
    private current: KeySet,
    private previous: KeySet | undefined,
  ) {}

  /** A ring with freshly generated keys. */
  static async create(): Promise<KeyRing> {
    return new KeyRing(await newKeySet(), undefined);
  }

  /** A new generation of keys; the current one becomes the previous one, and the one before is dropped. */
  async rotate(): Promise<void> {
    const next = await newKeySet();
    this.previous = this.current;
    this.current = next;
  }

  /** The public keys the JWKS publishes: the current generation, then the previous one. */
  publicJwks(): { keys: JWK[] } {
    const sets = this.previous ? [this.current, this.previous] : [this.current];
    return { keys: sets.flatMap((set) => DEV_IDP_ALGORITHMS.map((alg) => set[alg].publicJwk)) };
  }

  /** The key ids of the current generation. */
  currentKids(): Record<DevIdpAlgorithm, string> {
    return { RS256: this.current.RS256.kid, ES256: this.current.ES256.kid };
  }

  /**
   * Signs a JWT with one of the ring's keys. `header` adds to (or overrides, e.g. a made-up
   * `kid`) the protected header `{alg, kid, typ: 'JWT'}`.
   */
  async sign(
    payload: JWTPayload,
    options: { alg?: DevIdpAlgorithm; generation?: KeyGeneration; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const set = options.generation === 'previous' ? this.previous : this.current;
    if (!set) throw new Error('There is no previous key yet: rotate first.');
    const key = set[options.alg ?? 'RS256'];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
      .sign(key.privateKey);
  }
}
