/**
 * Sign-in with an outside OpenID Connect provider (docs/api.md#sign-in-with-a-provider): nonces,
 * signing in or signing up with an ID token, and the identities linked to an account. Accounts
 * are keyed by (issuer, subject), never by an email or a name claim. Free of HTTP and AWS.
 */
import { hashDeviceToken, newDeviceToken } from '../accounts/device-trust';
import type { LoginTrust } from '../accounts/login-trust';
import { NO_PASSWORD, hasPassword } from '../accounts/password';
import type { UserRecord, UserStore } from '../accounts/ports';
import type { Username } from '../accounts/username';
import { OIDC_NONCE_SECONDS } from '../contract/limits';
import type { IdentityList, MfaChallengeResult, OidcNonce, SessionResult } from '../contract/wire';
import type { CredentialVendor } from '../credentials/vending';
import type { AuditRecorder, RequestOrigin } from '../platform/audit';
import type { Clock } from '../platform/clock';
import {
  AlreadyEnrolledError,
  AuthenticationError,
  NotFoundError,
  UsernameRequiredError,
  UsernameTakenError,
  ValidationError,
} from '../platform/errors';
import { INVALID_ID_TOKEN_MESSAGE } from './messages';
import type { SecondFactorGate } from '../second-factor/gate';
import type { StepUpProof } from '../second-factor/requests';
import type { IdentityProofCheck, StepUpService } from '../second-factor/step-up';
import type { SessionStore } from '../sessions/ports';
import type { SessionKeeper } from '../sessions/session-keeper';
import type { SessionService } from '../sessions/session-service';
import { newId } from '../sessions/session-token';
import { hashNonce, identityId, newNonce } from './identity-id';
import type { IdTokenVerifier, IdentityLink, IdentityStore, NonceStore, OidcProvider, VerifiedIdentity } from './ports';
import { findProvider, parseIdentityId, parseIdentityLink, type OidcLoginRequest } from './requests';
import type { IdentityLinkBody } from '../contract/bodies';
import type { RegistrationGate } from '../signup/registration-gate';

/**
 * The `amr` values that stand in for the account's second factor when a provider is trusted
 * for it (`trustProviderMfa`): RFC 8176's multi-factor, one-time password, hardware and
 * software key, and the biometric ones a platform authenticator reports.
 */
export const MFA_METHODS: readonly string[] = ['mfa', 'otp', 'hwk', 'swk', 'fpt', 'face', 'iris', 'retina', 'vbm'];

/** What `POST /login/oidc` answers: 200 (a session or a second-factor challenge) or 201 (a new account). */
export type OidcLoginOutcome =
  | { readonly status: 200; readonly body: SessionResult | MfaChallengeResult }
  | { readonly status: 201; readonly body: SessionResult };

/** What {@link OidcService} needs. */
export interface OidcServiceDependencies {
  readonly providers: readonly OidcProvider[];
  readonly nonces: NonceStore;
  readonly identities: IdentityStore;
  readonly users: UserStore;
  readonly sessionStore: SessionStore;
  readonly sessions: SessionService;
  readonly keeper: SessionKeeper;
  readonly trust: LoginTrust;
  readonly gate: SecondFactorGate;
  readonly stepUp: StepUpService;
  readonly vendor: CredentialVendor;
  readonly auditor: AuditRecorder;
  readonly clock: Clock;
  /** The `registration` setting: whether an unknown identity may create an account. */
  readonly registration: RegistrationGate;
  /** Only the functions that verify tokens have one (it loads jose): the others never call what needs it. */
  readonly verifier?: IdTokenVerifier;
}

/** Nonces, sign-in and sign-up with an ID token, and an account's linked identities. */
export class OidcService implements IdentityProofCheck {
  private readonly stepUp: StepUpService;

  constructor(private readonly deps: OidcServiceDependencies) {
    this.stepUp = deps.stepUp.withIdentityProof(this);
  }

  /** A single-use nonce for the provider's sign-in; only its hash is stored. */
  async issueNonce(): Promise<OidcNonce> {
    // No provider, no sign-in to start: strangers cannot fill the table with nonces nobody can use.
    if (this.deps.providers.length === 0) throw new NotFoundError('Sign-in with a provider is not configured here.');
    const nonce = newNonce();
    const expiresAt = this.deps.clock.now() + OIDC_NONCE_SECONDS * 1000;
    await this.deps.nonces.put(hashNonce(nonce), expiresAt);
    return { nonce, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Signs in with an ID token: a known identity opens a session as `POST /login` does (or gets
   * the same second-factor challenge); an unknown one without `username` is a 400
   * `username_required` and nothing is written, not even the nonce (the app sends the same token
   * again with a name); a taken name is the register 409, also with the nonce left unspent; with
   * a free `username`, a new account without a password, linked to the identity (201, the
   * register body). A known identity's nonce is spent at once. The `registration` setting
   * applies to new accounts only: a linked identity always signs in.
   */
  async login(request: OidcLoginRequest, origin: RequestOrigin = {}): Promise<OidcLoginOutcome> {
    const identity = await this.verifiedUnspent(request.provider, request.idToken);
    const link = await this.currentLink(identity);
    if (!link) return this.signUp(request, identity, origin);
    await this.spend(identity);
    const user = await this.deps.users.getUser(link.username);
    const details = { provider: request.provider.name, identity: link.id };
    if (!user || user.userId !== link.userId) throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
    if (user.disabled) {
      await this.deps.auditor.record('oidc_failed', user.username, origin, { ...details, reason: 'disabled' });
      throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
    }
    const providerMfa =
      request.provider.trustProviderMfa && identity.methods.some((method) => MFA_METHODS.includes(method));
    if (!providerMfa) {
      const challenge = await this.deps.gate.challengeIfEnrolled(user, request.device, origin, request.deviceToken);
      if (challenge) {
        await this.deps.auditor.record('oidc_login', user.username, origin, { ...details, outcome: 'challenge' });
        return { status: 200, body: challenge };
      }
    }
    const deviceToken = await this.deps.trust.afterPassword(user, undefined, request.deviceToken, true);
    await this.deps.auditor.record('oidc_login', user.username, origin, {
      ...details,
      ...(providerMfa ? { secondFactor: 'provider' } : {}),
    });
    const result = await this.deps.sessions.completeLogin(user, request.device, origin, { method: 'oidc' });
    return { status: 200, body: { ...result, ...(deviceToken !== undefined ? { deviceToken } : {}) } };
  }

  /** The identities linked to the signed-in account, oldest first. */
  async list(sessionToken: string | undefined): Promise<IdentityList> {
    const { user } = await this.deps.sessions.authenticate(sessionToken);
    const links = await this.deps.identities.listByUser(user.username, user.userId);
    return {
      identities: links.map((link) => ({
        id: link.id,
        provider: link.provider,
        linkedAt: new Date(link.linkedAt).toISOString(),
      })),
    };
  }

  /**
   * Links another identity to the signed-in account, after its step-up; the token needs a
   * fresh nonce like any sign-in. An identity linked to another account (or this one) is a 409.
   */
  async link(
    sessionToken: string | undefined,
    body: IdentityLinkBody,
    origin: RequestOrigin = {},
  ): Promise<{ id: string; provider: string; linkedAt: string }> {
    const live = await this.deps.sessions.authenticate(sessionToken);
    // After the session: a caller without one learns nothing about the configured providers.
    const request = parseIdentityLink(body, this.deps.providers);
    await this.stepUp.stepUp(live, request.proof, origin, 'identity link');
    const identity = await this.verified(request.provider, request.idToken);
    const link = this.newLink(request.provider, identity, live.user);
    if (!(await this.deps.identities.create(link))) {
      // A stale link (its account deleted) is removed and the identity is free again.
      if ((await this.currentLink(identity)) !== undefined || !(await this.deps.identities.create(link)))
        throw new AlreadyEnrolledError('This identity is already linked to an account.');
    }
    await this.deps.auditor.record('identity_linked', live.user.username, origin, {
      provider: link.provider,
      identity: link.id,
    });
    return { id: link.id, provider: link.provider, linkedAt: new Date(link.linkedAt).toISOString() };
  }

  /**
   * Unlinks one of the account's identities, after its step-up; refused (400) when it would
   * leave the account with no way to sign in: no password, no passkey and no other identity.
   */
  async unlink(
    sessionToken: string | undefined,
    rawId: unknown,
    proof: StepUpProof,
    origin: RequestOrigin = {},
  ): Promise<void> {
    const live = await this.deps.sessions.authenticate(sessionToken);
    const id = parseIdentityId(rawId);
    const { user } = live;
    const links = await this.deps.identities.listByUser(user.username, user.userId);
    const target = links.find((link) => link.id === id);
    if (!target) throw new NotFoundError('No such identity is linked to this account.');
    // Refused before the step-up, so a refused unlink spends no recovery code.
    const passkeys = (await this.deps.gate.factorsOf(user))?.passkeys.length ?? 0;
    if (!hasPassword(user) && passkeys === 0 && links.length <= 1)
      throw new ValidationError(
        'This is the only way to sign in to this account: set a password or link another identity first.',
        'id',
      );
    await this.stepUp.stepUp(live, proof, origin, 'identity unlink');
    await this.deps.identities.remove(target);
    await this.deps.auditor.record('identity_unlinked', user.username, origin, {
      provider: target.provider,
      identity: target.id,
    });
  }

  /** Step-up with an ID token (StepUpService): a fresh token of an identity linked to this account. */
  async proveLinkedIdentity(
    user: UserRecord,
    providerName: string,
    idToken: string,
    origin: RequestOrigin,
  ): Promise<void> {
    const provider = findProvider(this.deps.providers, providerName);
    const identity = await this.verified(provider, idToken);
    const link = await this.deps.identities.get(identity.issuer, identity.subject);
    if (!link || link.username !== user.username || link.userId !== user.userId) {
      await this.deps.auditor.record('oidc_failed', user.username, origin, {
        provider: provider.name,
        reason: 'not linked',
      });
      throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
    }
  }

  /** Verifies the token, then spends its nonce (one conditional delete): a replay finds it gone. */
  private async verified(provider: OidcProvider, idToken: string): Promise<VerifiedIdentity> {
    const identity = await this.verifiedUnspent(provider, idToken);
    await this.spend(identity);
    return identity;
  }

  /** Verifies the token without spending its nonce: the signature and claims only. */
  private async verifiedUnspent(provider: OidcProvider, idToken: string): Promise<VerifiedIdentity> {
    const { verifier } = this.deps;
    if (!verifier) throw new Error('This function has no ID token verifier.');
    return verifier.verify(provider, idToken);
  }

  /** Spends the token's nonce (one conditional delete): of two parallel uses only one finds it. */
  private async spend(identity: VerifiedIdentity): Promise<void> {
    if (!(await this.deps.nonces.consume(hashNonce(identity.nonce), this.deps.clock.now())))
      throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
  }

  /**
   * The identity's link, if it still leads to the account it was made for. A link whose account
   * is gone (deleted, or its name registered again by someone else) is removed: the identity
   * starts as unknown, and a crash between a sign-up's link and its user is repaired.
   */
  private async currentLink(identity: VerifiedIdentity): Promise<IdentityLink | undefined> {
    const link = await this.deps.identities.get(identity.issuer, identity.subject);
    if (!link) return undefined;
    const user = await this.deps.users.getUser(link.username);
    if (user && user.userId === link.userId) return link;
    await this.deps.identities.remove(link);
    return undefined;
  }

  /** A new account without a password, linked to the identity: the register body, 201. */
  private async signUp(
    request: OidcLoginRequest,
    identity: VerifiedIdentity,
    origin: RequestOrigin,
  ): Promise<OidcLoginOutcome> {
    const { users, sessionStore, identities, keeper, vendor, clock, auditor } = this.deps;
    const { username } = request;
    // A spent or unknown nonce is the one 401 here too, never a hint that the identity is new.
    if (!(await this.deps.nonces.isLive(hashNonce(identity.nonce), clock.now())))
      throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
    // Closed: refused before the app asks for a name it cannot use.
    this.deps.registration.refuseIfClosed();
    // Nothing is written without a free name, not even the nonce: the app asks for a name and
    // sends the same token again with it (while the nonce lasts).
    if (username === undefined) throw new UsernameRequiredError();
    // As register: the invite before the name, so a stranger without one learns nothing.
    const admission = await this.deps.registration.admit(request.invite);
    // As register: a fast path; the conditional writes below are what guarantee uniqueness.
    if ((await users.getUser(username)) || ((await users.nameHeldUntil(username)) ?? -1) >= clock.now())
      throw new UsernameTakenError();
    await this.spend(identity);
    const usage = vendor.newFolderUsage();
    const credentials = await vendor.vend(username, undefined, usage);
    const deviceToken = newDeviceToken();
    const user: UserRecord = {
      username,
      userId: newId(),
      passwordHash: NO_PASSWORD,
      createdAt: clock.now(),
      disabled: false,
      sessionGeneration: 0,
      trustedDevices: [{ hash: hashDeviceToken(deviceToken), seenAt: clock.now() }],
    };
    const link = this.newLink(request.provider, identity, user);
    // The link first, conditioned on the identity being free: a parallel sign-up of the same
    // identity loses here. A crash before the user is written leaves a link to no account,
    // which the next sign-in removes (currentLink).
    if (!(await identities.create(link))) throw new AuthenticationError(INVALID_ID_TOKEN_MESSAGE);
    const opened = keeper.open(user, user.sessionGeneration, request.device);
    try {
      await sessionStore.putSession(opened.record);
      await this.deps.registration.commit(admission, user, origin, () => users.createUser(user));
    } catch (error) {
      await Promise.all([
        identities.remove(link).catch(() => undefined),
        sessionStore.deleteSession(opened.record.tokenHash).catch(() => undefined),
      ]);
      throw error;
    }
    await auditor.record('oidc_registered', username, origin, {
      provider: request.provider.name,
      identity: link.id,
      sessionId: opened.record.sessionId,
      ...(request.device ? { device: request.device } : {}),
    });
    return {
      status: 201,
      body: {
        username,
        session: keeper.grant(opened),
        credentials,
        storage: vendor.storage(username, usage),
        deviceToken,
      },
    };
  }

  private newLink(
    provider: OidcProvider,
    identity: VerifiedIdentity,
    user: { username: Username; userId: string },
  ): IdentityLink {
    return {
      id: identityId(identity.issuer, identity.subject),
      issuer: identity.issuer,
      subject: identity.subject,
      provider: provider.name,
      username: user.username,
      userId: user.userId,
      linkedAt: this.deps.clock.now(),
    };
  }
}
