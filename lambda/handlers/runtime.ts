/**
 * Everything a handler needs, built once per function instance at cold start: configuration
 * (a missing value throws here, naming it), the logger, the AWS clients and the services.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BcryptPasswordHasher } from '../accounts/password-hash';
import { NewPasswordPolicy } from '../accounts/password-policy';
import { accountStores } from '../adapters/account-deletion-wiring';
import { createDynamoDbClient, createStsClient } from '../adapters/aws-clients';
import { GzipCommonPasswordList } from '../adapters/common-passwords';
import { DynamoIdentityStore } from '../adapters/dynamo/identity-store';
import { DynamoInviteStore } from '../adapters/dynamo/invite-store';
import { DynamoLinkStore } from '../adapters/dynamo/link-store';
import { DynamoNonceStore } from '../adapters/dynamo/nonce-store';
import { DynamoShareStore } from '../adapters/dynamo/share-store';
import { dynamoStores } from '../adapters/dynamo/stores';
import { StsCredentialIssuer } from '../adapters/sts-issuer';
import type { AccountAdminDependencies } from '../operator/account-admin';
import type { DomainLog } from '../platform/audit';
import { loadConfig, type TvmConfig } from '../platform/config';
import type { IdTokenVerifier } from '../identities/ports';
import type { OidcService } from '../identities/oidc-service';
import {
  createIdentityServices,
  createServices,
  createSharingServices,
  type Services,
  type SharingServices,
} from '../services';

/** The pieces a handler module uses. */
export interface Runtime {
  readonly config: TvmConfig;
  readonly logger: Logger;
  readonly accounts: Services['accounts'];
  readonly sessions: Services['sessions'];
  /** Second factors (docs/mfa.md): setting them up, signing in with them, step-up. */
  readonly mfa: Services['mfa'];
  readonly mfaLogin: Services['mfaLogin'];
  readonly stepUp: Services['stepUp'];
  /** Shares and share links (docs/api.md#shares-and-links). */
  readonly shares: SharingServices['shares'];
  readonly links: SharingServices['links'];
  /** Ending shares and opening links, given the adapter only that route's function carries. */
  readonly shareRevoker: SharingServices['revoker'];
  readonly linkOpener: SharingServices['opener'];
  /**
   * Sign-in with a provider (docs/api.md#sign-in-with-a-provider), given the ID token verifier
   * only the functions that verify tokens build (lambda/adapters/oidc-verifier.ts, with jose).
   */
  oidc(verifier?: IdTokenVerifier): OidcService;
  /** The domain's log, for adapters a handler module builds. */
  readonly log: DomainLog;
  /** The table's client and stores, for the functions that build more on them (the account deletion). */
  readonly dynamo: DynamoDBClient;
  readonly stores: AccountAdminDependencies;
}

let runtime: Runtime | undefined;

/** Builds the runtime on first call and returns the same one after. */
export function getRuntime(): Runtime {
  runtime ??= createRuntime(process.env);
  return runtime;
}

function createRuntime(env: NodeJS.ProcessEnv): Runtime {
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'tvm' });
  const config = loadConfig(env);
  const dynamo = createDynamoDbClient(config.region);
  const domainLog: DomainLog = {
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
  const stores = accountStores(dynamo, config.tableName, domainLog, config);
  const { sessionWithUser, factors, challenges, usage } = dynamoStores(dynamo, config.tableName);
  const services = createServices({
    ...stores,
    sessionWithUser,
    usage,
    factors,
    challenges,
    issuer: new StsCredentialIssuer(createStsClient(config.region), config.vendingRoleArn),
    hasher: new BcryptPasswordHasher(config.bcryptCost),
    // The list is read on first use: only the functions that set passwords ever load it.
    passwordPolicy: new NewPasswordPolicy(config.passwordMinCharacters, new GzipCommonPasswordList()),
    invites: new DynamoInviteStore(dynamo, config.tableName),
  });
  const { accounts, sessions, mfa, mfaLogin, stepUp } = services;
  const sharing = createSharingServices(services, {
    users: stores.users,
    clock: stores.clock,
    shares: new DynamoShareStore(dynamo, config.tableName),
    links: new DynamoLinkStore(dynamo, config.tableName),
  });
  const { shares, links } = sharing;
  const oidc = createIdentityServices(services, {
    users: stores.users,
    sessions: stores.sessions,
    clock: stores.clock,
    providers: config.oidcProviders,
    nonces: new DynamoNonceStore(dynamo, config.tableName),
    identities: new DynamoIdentityStore(dynamo, config.tableName),
  });
  return {
    oidc,
    config,
    logger,
    accounts,
    sessions,
    mfa,
    mfaLogin,
    stepUp,
    shares,
    links,
    shareRevoker: sharing.revoker,
    linkOpener: sharing.opener,
    log: domainLog,
    dynamo,
    stores,
  };
}
