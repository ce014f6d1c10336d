/** Pending second-factor challenges on DynamoDB (layout in table-layout.ts), keyed by token hash. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from '../../accounts/lockout';
import type { Username } from '../../accounts/username';
import { BackendUnavailableError } from '../../platform/errors';
import type { ChallengeRecord, ChallengeStore } from '../../second-factor/ports';
import { DynamoTable, isConditionFailure, storedUsername, ttlSeconds, unavailable, type WriteCommand } from './helpers';
import { KEYS, TABLE_LAYOUT } from './table-layout';

const TTL = TABLE_LAYOUT.timeToLiveAttribute;

/** {@link ChallengeStore} on DynamoDB: each answer is counted by one conditional update, and only one can use it up. */
export class DynamoChallengeStore implements ChallengeStore {
  private readonly table: DynamoTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new DynamoTable(client, tableName);
  }

  async putChallenge(challenge: ChallengeRecord): Promise<void> {
    await this.run(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...KEYS.challenge(challenge.tokenHash), ...challenge, [TTL]: ttlSeconds(challenge.expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async takeChallengeAttempt(tokenHash: string, max: number, now: number): Promise<ChallengeRecord | undefined> {
    try {
      const result = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEYS.challenge(tokenHash),
          UpdateExpression: 'SET attempts = attempts + :one',
          ConditionExpression: 'attempts < :max AND expiresAt > :now',
          ExpressionAttributeValues: { ':one': 1, ':max': max, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toChallenge(result.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw unavailable(error);
    }
  }

  consumeChallenge(tokenHash: string): Promise<boolean> {
    return this.table.conditional(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEYS.challenge(tokenHash),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }

  /** A write that must apply: a failed condition is a 503 too. */
  private async run(command: WriteCommand): Promise<void> {
    if (!(await this.table.conditional(command))) throw new BackendUnavailableError('DynamoDB (condition failed)');
  }
}

/** A scope read back: one of the shapes {@link LockoutScope} names (anything else falls back to unknown devices). */
function isLockoutScope(value: string): value is LockoutScope {
  return value === UNKNOWN_DEVICE_SCOPE || value === 'reset' || /^(device|session):[A-Za-z0-9_-]{1,64}$/.test(value);
}

function toChallenge(item: Record<string, unknown>): ChallengeRecord {
  return {
    tokenHash: String(item.tokenHash),
    username: item.username === '' ? ('' as Username) : storedUsername(item.username, 'MFA'),
    userId: String(item.userId ?? ''),
    generation: Number(item.generation ?? 0),
    expiresAt: Number(item.expiresAt),
    attempts: Number(item.attempts),
    ...(typeof item.device === 'string' ? { device: item.device } : {}),
    ...(typeof item.webauthnChallenge === 'string' ? { webauthnChallenge: item.webauthnChallenge } : {}),
    ...(item.kind === 'passkey' || item.kind === 'login' ? { kind: item.kind } : {}),
    ...(typeof item.lockoutScope === 'string' && isLockoutScope(item.lockoutScope)
      ? { lockoutScope: item.lockoutScope }
      : {}),
    ...(typeof item.trustedDeviceHash === 'string' ? { trustedDeviceHash: item.trustedDeviceHash } : {}),
  };
}
