/**
 * The composition root of the domain: builds each capability's service from its ports, for
 * the functions (lambda/handlers/runtime.ts) and the tests alike. Free of AWS: the caller
 * passes the adapters.
 */
import { AccountService } from './accounts/account-service';
import { LoginTrust } from './accounts/login-trust';
import type { PasswordHasher } from './accounts/password';
import { PasswordCheck } from './accounts/password-check';
import type { NewPasswordPolicy } from './accounts/password-policy';
import type { LockoutStore, ResetCodeStore, UserStore } from './accounts/ports';
import type { CredentialIssuer } from './credentials/ports';
import { CredentialVendor } from './credentials/vending';
import { AuditRecorder, type AuditTrail, type DomainLog } from './platform/audit';
import type { Clock } from './platform/clock';
import type { TvmConfig } from './platform/config';
import { SecondFactorGate } from './second-factor/gate';
import { SecondFactorLogin } from './second-factor/mfa-login';
import { MfaService } from './second-factor/mfa-service';
import type { ChallengeStore, FactorStore } from './second-factor/ports';
import { StepUpService } from './second-factor/step-up';
import type { SessionStore, SessionWithUserReader, VendLedger } from './sessions/ports';
import type { StoredUsageReader } from './usage/quota-enforcer';
import { SessionKeeper } from './sessions/session-keeper';
import { SessionService } from './sessions/session-service';
import { OidcService } from './identities/oidc-service';
import type { IdTokenVerifier, IdentityStore, NonceStore, OidcProvider } from './identities/ports';
import { LinkOpener } from './sharing/link-opener';
import { LinkService } from './sharing/link-service';
import type { LinkPresigner, LinkStore, ShareCutOff, ShareStore } from './sharing/ports';
import { ShareRevoker } from './sharing/share-revoker';
import { ShareService } from './sharing/share-service';
import type { InviteStore } from './signup/ports';
import { RegistrationGate } from './signup/registration-gate';

/** Every port the services need. */
export interface ServiceDependencies {
  readonly config: TvmConfig;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  /**
   * The session and user of a current token in one read (every authenticated route), and
   * /token's first stage with the vend counts (the same store).
   */
  readonly sessionWithUser: SessionWithUserReader & VendLedger;
  readonly lockout: LockoutStore;
  readonly resetCodes: ResetCodeStore;
  readonly audit: AuditTrail;
  readonly factors: FactorStore;
  readonly challenges: ChallengeStore;
  readonly issuer: CredentialIssuer;
  /** The meter's totals of a folder: every vend reads them (over quota, no writes). */
  readonly usage: StoredUsageReader;
  readonly hasher: PasswordHasher;
  /** The rules for new passwords (register, change, reset). */
  readonly passwordPolicy: NewPasswordPolicy;
  readonly clock: Clock;
  readonly log: DomainLog;
  /** Waits `ms` (a vend waiting out a cut-off instant a few seconds ahead). Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The invites (lambda/signup): required when the `registration` setting is `invite`. */
  readonly invites?: InviteStore;
}

/** The TVM's services, wired to each other. */
export interface Services {
  readonly accounts: AccountService;
  readonly sessions: SessionService;
  /** Setting up and removing second factors. */
  readonly mfa: MfaService;
  /** Signing in with a second factor, or with a passkey alone. */
  readonly mfaLogin: SecondFactorLogin;
  /** The step-up every sensitive change asks for. */
  readonly stepUp: StepUpService;
  readonly gate: SecondFactorGate;
  readonly vendor: CredentialVendor;
  readonly auditor: AuditRecorder;
  /** Sessions' bookkeeping and a login's device trust (sign-in with a provider builds on them). */
  readonly keeper: SessionKeeper;
  readonly trust: LoginTrust;
  /** The `registration` setting, for every way an account is created. */
  readonly registration: RegistrationGate;
}

/** Builds every service over the given ports. */
export function createServices(deps: ServiceDependencies): Services {
  const { config, clock, log, users } = deps;
  const auditor = new AuditRecorder(deps);
  const vendor = new CredentialVendor({
    config,
    issuer: deps.issuer,
    usage: deps.usage,
    clock,
    log,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const keeper = new SessionKeeper({
    config,
    users,
    sessions: deps.sessions,
    sessionWithUser: deps.sessionWithUser,
    clock,
    log,
    auditor,
  });
  const passwords = new PasswordCheck({ users, lockout: deps.lockout, hasher: deps.hasher, config, clock, auditor });
  const trust = new LoginTrust({ users, hasher: deps.hasher, clock, log });
  const relyingParty = { id: config.passkeyRpId, origins: config.passkeyOrigins };
  const gate = new SecondFactorGate({
    factors: deps.factors,
    challenges: deps.challenges,
    clock,
    config,
    auditor,
    relyingParty,
  });
  const stepUp = new StepUpService({ passwords, gate, challenges: deps.challenges, clock, auditor });
  const sessions = new SessionService({
    config,
    ledger: deps.sessionWithUser,
    sessions: deps.sessions,
    keeper,
    passwords,
    trust,
    vendor,
    auditor,
    clock,
    secondFactor: gate,
    stepUp,
  });
  const registration = new RegistrationGate({
    mode: config.registration,
    ...(deps.invites ? { invites: deps.invites } : {}),
    users,
    auditor,
    clock,
    log,
  });
  const accounts = new AccountService({
    ...deps,
    passwords,
    keeper,
    vendor,
    auditor,
    secondFactor: gate,
    registration,
  });
  const mfa = new MfaService({ sessions, accounts, stepUp, gate, factors: deps.factors, clock, auditor, relyingParty });
  const mfaLogin = new SecondFactorLogin({
    sessions,
    vendor,
    trust,
    gate,
    factors: deps.factors,
    challenges: deps.challenges,
    users,
    clock,
    auditor,
    relyingParty,
  });
  return { accounts, sessions, mfa, mfaLogin, stepUp, gate, vendor, auditor, keeper, trust, registration };
}

/** The stores sharing needs beside the services' own ports (lambda/sharing/ports.ts). */
export interface SharingDependencies {
  readonly shares: ShareStore;
  readonly links: LinkStore;
}

/** Shares and links, over the services they authenticate and vend with. */
export interface SharingServices {
  readonly shares: ShareService;
  readonly links: LinkService;
  /**
   * Ending shares, given the cut-off that stops their issued credentials (only `DELETE
   * /shares/{id}` builds it: its adapter carries a Lambda client no other function needs).
   */
  revoker(cutOff: ShareCutOff): ShareRevoker;
  /** Opening links, given the presigner (only `GET /l/{id}` builds it: it carries the S3 client). */
  opener(presigner: LinkPresigner): LinkOpener;
}

/** Builds the sharing services on top of {@link createServices}' (its sessions, vendor and auditor). */
export function createSharingServices(
  services: Services,
  deps: Pick<ServiceDependencies, 'users' | 'clock'> & SharingDependencies,
): SharingServices {
  const authenticate = (token: string | undefined) => services.sessions.authenticate(token);
  const { vendor, auditor } = services;
  const { users, clock, shares, links } = deps;
  return {
    shares: new ShareService({ authenticate, users, vendor, auditor, clock, shares }),
    links: new LinkService({ authenticate, users, auditor, clock, links }),
    revoker: (cutOff) => new ShareRevoker({ authenticate, shares, cutOff, auditor }),
    opener: (presigner) => new LinkOpener({ users, links, vendor, presigner, auditor, clock }),
  };
}

/** The stores sign-in with a provider needs beside the services' own ports (lambda/identities/ports.ts). */
export interface IdentityDependencies {
  readonly providers: readonly OidcProvider[];
  readonly nonces: NonceStore;
  readonly identities: IdentityStore;
}

/**
 * Sign-in with a provider over {@link createServices}' services: given the ID token verifier
 * when the function verifies tokens (only those load jose), without one for the nonce and the list.
 */
export function createIdentityServices(
  services: Services,
  deps: Pick<ServiceDependencies, 'users' | 'sessions' | 'clock'> & IdentityDependencies,
): (verifier?: IdTokenVerifier) => OidcService {
  return (verifier) =>
    new OidcService({
      providers: deps.providers,
      nonces: deps.nonces,
      identities: deps.identities,
      users: deps.users,
      sessionStore: deps.sessions,
      sessions: services.sessions,
      keeper: services.keeper,
      trust: services.trust,
      gate: services.gate,
      stepUp: services.stepUp,
      vendor: services.vendor,
      auditor: services.auditor,
      clock: deps.clock,
      registration: services.registration,
      ...(verifier ? { verifier } : {}),
    });
}
