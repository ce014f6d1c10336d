import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { BackendUnavailableError } from '../platform/errors';
import type { CredentialIssuer, CredentialRequest } from '../credentials/ports';
import type { IssuedCredentials } from '../contract/wire';
import { REVOCATION_GROUP_SESSION_TAG, revocationGroup } from '../credentials/revocation';
import { USERNAME_SESSION_TAG } from '../credentials/session-tags';

export { USERNAME_SESSION_TAG } from '../credentials/session-tags';

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
