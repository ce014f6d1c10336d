/** Runs one passkey ceremony step (registration options), for test/second-factor/lazy-webauthn.unit.test.ts. */
/** Runs one passkey ceremony step (registration options), for test/second-factor/lazy-webauthn.unit.test.ts. */
import { passkeyRegistrationOptions } from '../../lambda/second-factor/passkeys';
import { parseUsername } from '../../lambda/accounts/username';

export async function run(): Promise<void> {
  await passkeyRegistrationOptions(
    { id: 'localhost', origins: ['http://localhost:3000'] },
    { username: parseUsername('alice'), userId: 'user-1' },
    [],
  );
}
