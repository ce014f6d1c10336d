/**
 * Everything a handler needs, built once per function instance at cold start: configuration
 * (a missing value throws here, naming it), the logger, the AWS clients and the service.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient, createStsClient } from '../adapters/aws-clients';
import { GzipCommonPasswordList } from '../adapters/common-passwords';
import { DynamoMfaStore } from '../adapters/dynamo/factor-store';
import { DynamoTvmStore } from '../adapters/dynamo/user-store';
import { StsCredentialIssuer } from '../adapters/sts-issuer';
import type { AccountAdminDependencies } from '../operator/account-admin';
import { loadConfig, type TvmConfig } from '../platform/config';
import type { MfaService } from '../second-factor/mfa-service';
import { createServices, type Services } from '../services';
import { BcryptPasswordHasher } from '../accounts/password-hash';
import { NewPasswordPolicy } from '../accounts/password-policy';
import { systemClock } from '../platform/clock';
import type { DomainLog } from '../platform/audit';

/** The pieces a handler module uses. */
export interface Runtime {
  readonly config: TvmConfig;
  readonly logger: Logger;
  readonly accounts: Services['accounts'];
  readonly sessions: Services['sessions'];
  /** Second factors (docs/mfa.md). */
  readonly mfa: MfaService;
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
  const store = new DynamoTvmStore(dynamo, config.tableName);
  const domainLog: DomainLog = {
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
  const mfaStore = new DynamoMfaStore(dynamo, config.tableName);
  const stores = {
    config,
    users: store,
    sessions: store,
    lockout: store,
    resetCodes: store,
    audit: store,
    clock: systemClock,
    log: domainLog,
  };
  const { accounts, sessions, mfa } = createServices({
    ...stores,
    factors: mfaStore,
    challenges: mfaStore,
    sessionWithUser: store,
    issuer: new StsCredentialIssuer(createStsClient(config.region), config.vendingRoleArn),
    hasher: new BcryptPasswordHasher(config.bcryptCost),
    // The list is read on first use: only the functions that set passwords ever load it.
    passwordPolicy: new NewPasswordPolicy(config.passwordMinCharacters, new GzipCommonPasswordList()),
  });
  return { config, logger, accounts, sessions, mfa, dynamo, stores };
}
