/**
 * Test helpers over the in-memory identity store (in-memory-identities.ts): planting a link as
 * a provider sign-in leaves it, and a store whose removals can be made to fail. For tests only.
 */
import type { Username } from '../../lambda/accounts/username';
import { identityId } from '../../lambda/identities/identity-id';
import type { IdentityLink, IdentityStore } from '../../lambda/identities/ports';
import { BackendUnavailableError } from '../../lambda/platform/errors';
import { InMemoryIdentityStore } from './in-memory-identities';

/** Links (issuer, subject) to the registration `userId` of `username`, through the store's own create. */
export async function plantLink(
  store: Pick<IdentityStore, 'create'>,
  username: Username,
  userId: string,
  issuer: string,
  subject: string,
  provider = 'google',
  linkedAt = 0,
): Promise<IdentityLink> {
  const link: IdentityLink = { id: identityId(issuer, subject), issuer, subject, provider, username, userId, linkedAt };
  if (!(await store.create(link))) throw new Error(`${issuer} ${subject} is already linked`);
  return link;
}

/** An in-memory identity store whose next `failRemoves` removals fail as DynamoDB would (503). */
export class FlakyIdentityStore extends InMemoryIdentityStore {
  failRemoves = 0;

  override async remove(link: IdentityLink): Promise<void> {
    if (this.failRemoves > 0) {
      this.failRemoves -= 1;
      throw new BackendUnavailableError('in-memory fake');
    }
    return super.remove(link);
  }

  /** The pointer keys left in `username`'s partition. */
  pointersOf(username: Username): string[] {
    return [...this.pointers.keys()].filter((key) => key.startsWith(`${username}#`));
  }
}
