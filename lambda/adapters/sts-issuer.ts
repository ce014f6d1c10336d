import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { BackendThrottledError, BackendUnavailableError } from '../platform/errors';
import type { CredentialIssuer, CredentialRequest } from '../credentials/ports';
import type { IssuedCredentials } from '../contract/wire';
import { REVOCATION_GROUP_SESSION_TAG, revocationGroup } from '../credentials/revocation';
import { USERNAME_SESSION_TAG } from '../credentials/session-tags';

export { USERNAME_SESSION_TAG } from '../credentials/session-tags';

/** The error codes STS (and the SDK) use when a caller exceeds a rate: AssumeRole's quota is shared per account and Region. */
const THROTTLING_CODES: ReadonlySet<string> = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded']);
/** The Retry-After of a throttled vend, drawn uniformly from this range (seconds) so refused callers spread out. */
export const THROTTLED_RETRY_AFTER_SECONDS = { min: 1, max: 4 } as const;

/** Whether STS refused for its rate. */
export function isStsThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING_CODES.has(error.name);
}

/** A jittered Retry-After within {@link THROTTLED_RETRY_AFTER_SECONDS}; `random` in [0, 1). */
export function throttledRetryAfterSeconds(random: () => number = Math.random): number {
  const { min, max } = THROTTLED_RETRY_AFTER_SECONDS;
  return min + Math.floor(random() * (max - min + 1));
}

/** Vends credentials by AssumeRole on the vending role, narrowed by the user's session policy. */
export class StsCredentialIssuer implements CredentialIssuer {
  constructor(
    private readonly sts: STSClient,
    private readonly vendingRoleArn: string,
  ) {}

  async issue(request: CredentialRequest): Promise<IssuedCredentials> {
    let credentials;
    try {
      const result = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: this.vendingRoleArn,
          // Both carry the username so CloudTrail shows who did what, even through role chaining.
          RoleSessionName: request.username,
          SourceIdentity: request.username,
          Policy: request.sessionPolicy,
          DurationSeconds: request.durationSeconds,
          // The revocation group lets a long cut-off list match users by group (lambda/credentials/revocation.ts).
          Tags: [
            { Key: USERNAME_SESSION_TAG, Value: request.username },
            { Key: REVOCATION_GROUP_SESSION_TAG, Value: revocationGroup(request.username) },
            ...Object.entries(request.extraTags ?? {}).flatMap(([Key, Value]) =>
              Value === undefined ? [] : [{ Key, Value }],
            ),
          ],
        }),
      );
      credentials = result.Credentials;
    } catch (error) {
      // The SDK has already retried once (aws-clients.ts); more would only deepen the throttle.
      if (isStsThrottling(error))
        throw new BackendThrottledError('STS', throttledRetryAfterSeconds(), { cause: error });
      throw new BackendUnavailableError('STS', { cause: error });
    }
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !credentials.Expiration
    ) {
      throw new BackendUnavailableError('STS (incomplete credentials)');
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration.toISOString(),
    };
  }
}
