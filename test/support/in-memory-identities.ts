/**
 * In-memory fakes of the sign-in-with-a-provider ports (lambda/identities/ports.ts), keeping the
 * DynamoDB layout's shape (a canonical link by identity, a pointer per account), and a fake
 * verifier whose tokens are minted by the test. For tests only.
 */
import type { Username } from '../../lambda/accounts/username';
import { identityHash } from '../../lambda/identities/identity-id';
import { INVALID_ID_TOKEN_MESSAGE } from '../../lambda/identities/messages';
import type { OidcService } from '../../lambda/identities/oidc-service';
import type {
  IdTokenVerifier,
  IdentityLink,
  IdentityStore,
  NonceStore,
  OidcProvider,
  VerifiedIdentity,
} from '../../lambda/identities/ports';
import { AuthenticationError } from '../../lambda/platform/errors';
import type { TvmConfig } from '../../lambda/platform/config';
import { createIdentityServices, createServices, type Services } from '../../lambda/services';
import { inMemoryBackend, type InMemoryBackend } from './in-memory';
import { roundTrip } from './in-memory-platform';

/** {@link NonceStore} in memory: a consume is one atomic step, as DynamoDB's conditional delete. */
export class InMemoryNonceStore implements NonceStore {
  readonly nonces = new Map<string, number>();

  async put(nonceHash: string, expiresAt: number): Promise<void> {
    await roundTrip();
    this.nonces.set(nonceHash, expiresAt);
  }

  async isLive(nonceHash: string, now: number): Promise<boolean> {
    await roundTrip();
    const expiresAt = this.nonces.get(nonceHash);
    return expiresAt !== undefined && expiresAt > now;
  }

  async consume(nonceHash: string, now: number): Promise<boolean> {
    await roundTrip();
    const expiresAt = this.nonces.get(nonceHash);
    if (expiresAt === undefined || expiresAt <= now) return false;
    this.nonces.delete(nonceHash);
    return true;
  }
}

/** {@link IdentityStore} in memory: canonical links by (issuer, subject) and per-account pointers. */
export class InMemoryIdentityStore implements IdentityStore {
  readonly canonical = new Map<string, IdentityLink>();
  readonly pointers = new Map<string, { issuer: string; subject: string }>();

  async get(issuer: string, subject: string): Promise<IdentityLink | undefined> {
    await roundTrip();
    return this.canonical.get(identityHash(issuer, subject));
  }

  async create(link: IdentityLink): Promise<boolean> {
    await roundTrip();
    const key = identityHash(link.issuer, link.subject);
    if (this.canonical.has(key)) return false;
    this.canonical.set(key, link);
    await roundTrip();
    this.pointers.set(`${link.username}#${link.id}`, { issuer: link.issuer, subject: link.subject });
    return true;
  }

  async listByUser(username: Username, userId: string): Promise<IdentityLink[]> {
    await roundTrip();
    return [...this.pointers.entries()]
      .filter(([key]) => key.startsWith(`${username}#`))
      .map(([, { issuer, subject }]) => this.canonical.get(identityHash(issuer, subject)))
      .filter((link): link is IdentityLink => link?.username === username && link.userId === userId)
      .sort((a, b) => a.linkedAt - b.linkedAt);
  }

  async remove(link: IdentityLink): Promise<void> {
    await roundTrip();
    const key = identityHash(link.issuer, link.subject);
    if (this.canonical.get(key)?.userId === link.userId) this.canonical.delete(key);
    this.pointers.delete(`${link.username}#${link.id}`);
  }
}

/** The claims a test gives a fake token. */
export interface FakeClaims {
  readonly sub: string;
  readonly nonce: string;
  readonly amr?: readonly string[];
}

/**
 * A verifier whose valid tokens are the ones {@link mint} made for that provider's issuer;
 * anything else is the one 401. Counts its calls.
 */
export class FakeIdTokenVerifier implements IdTokenVerifier {
  private readonly minted = new Map<string, { issuer: string; claims: FakeClaims }>();
  private counter = 0;
  calls = 0;

  mint(provider: OidcProvider, claims: FakeClaims): string {
    const token = `fake.${(this.counter += 1)}.${provider.name}`;
    this.minted.set(token, { issuer: provider.issuer, claims });
    return token;
  }

  async verify(provider: OidcProvider, idToken: string): Promise<VerifiedIdentity> {
    this.calls += 1;
    await roundTrip();
    const entry = this.minted.get(idToken);
    if (!entry || entry.issuer !== provider.issuer) throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
    return {
      issuer: entry.issuer,
      subject: entry.claims.sub,
      nonce: entry.claims.nonce,
      methods: entry.claims.amr ?? [],
    };
  }
}

/** Two providers, as an operator would configure them. */
export const PROVIDERS: readonly OidcProvider[] = [
  { name: 'google', issuer: 'https://accounts.google.com', audiences: ['app-1'], trustProviderMfa: false },
  { name: 'corp', issuer: 'https://login.corp.example', audiences: ['tvm'], trustProviderMfa: true },
];

/** A whole in-memory TVM with sign-in with a provider. */
export interface IdentityWorld {
  readonly backend: InMemoryBackend;
  readonly services: Services;
  readonly nonces: InMemoryNonceStore;
  readonly identities: InMemoryIdentityStore;
  readonly verifier: FakeIdTokenVerifier;
  readonly oidc: OidcService;
  /** A fresh nonce and a token of `sub` at `provider` carrying it. */
  token(provider: OidcProvider, sub: string, amr?: readonly string[]): Promise<string>;
}

/** Builds an {@link IdentityWorld}. */
export function inMemoryIdentities(
  providers: readonly OidcProvider[] = PROVIDERS,
  config: Partial<TvmConfig> = {},
): IdentityWorld {
  const backend = inMemoryBackend({ config: { ...config, oidcProviders: providers } });
  const services = createServices(backend);
  const nonces = new InMemoryNonceStore();
  const identities = new InMemoryIdentityStore();
  const verifier = new FakeIdTokenVerifier();
  const oidc = createIdentityServices(services, { ...backend, providers, nonces, identities })(verifier);
  return {
    backend,
    services,
    nonces,
    identities,
    verifier,
    oidc,
    async token(provider, sub, amr) {
      const { nonce } = await oidc.issueNonce();
      return verifier.mint(provider, { sub, nonce, ...(amr ? { amr } : {}) });
    },
  };
}
