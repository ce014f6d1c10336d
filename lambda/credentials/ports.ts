/** What vending needs from the outside: STS (lambda/adapters/sts-issuer.ts). */
import type { Username } from '../accounts/username';
import type { IssuedCredentials } from '../contract/wire';
import type { SessionTagKey } from './session-tags';

/** What one AssumeRole call needs. */
export interface CredentialRequest {
  readonly username: Username;
  /** The serialised session policy. */
  readonly sessionPolicy: string;
  readonly durationSeconds: number;
  /**
   * Session tags beside `username` and `revocationGroup` (which the issuer always sets from
   * `username`): a share's credentials carry the share id and its revocation group. Only the
   * keys the vending role's trust policy allows ({@link SessionTagKey}).
   */
  readonly extraTags?: Readonly<Partial<Record<SessionTagKey, string>>>;
}

/** Vends credentials (STS AssumeRole on the vending role). */
export interface CredentialIssuer {
  issue(request: CredentialRequest): Promise<IssuedCredentials>;
}
