/** Runs one passkey ceremony step (registration options), for test/second-factor/lazy-webauthn.unit.test.ts. */
import { passkeyRegistrationOptions } from '../../lambda/core/mfa/passkeys';
import { parseUsername } from '../../lambda/core/username';

export async function run(): Promise<void> {
  await passkeyRegistrationOptions({ id: 'localhost', origins: ['http://localhost:3000'] }, { username: parseUsername('alice'), userId: 'user-1' }, []);
}
