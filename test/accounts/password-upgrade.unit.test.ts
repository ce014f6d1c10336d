/**
 * Issue 14 item 1 and 8 through the service with real bcrypt: a legacy hash keeps working,
 * is upgraded at the next successful login, and a re-hash never undoes a password change.
 */
import bcrypt from 'bcryptjs';
import { AuthenticationError } from '../../lambda/platform/errors';
import { BcryptPasswordHasher, parsePasswordHash } from '../../lambda/accounts/password-hash';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { createServices } from '../../lambda/services';
import { thrown } from '../support/async';
import { inMemoryBackend, loginSession } from '../support/in-memory';

const PASSWORD = 'correct horse battery';

async function withLegacyHash() {
  const backend = inMemoryBackend({ hasher: new BcryptPasswordHasher(11), config: { bcryptCost: 11 } });
  const service = createServices(backend);
  await service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
  const [user] = backend.users.all();
  // What an older TVM stored: bare bcrypt of the password, at the cost of its day.
  const legacy = await bcrypt.hash(PASSWORD, 10);
  await backend.users.updateUser(user!.username, user!.userId, { passwordHash: legacy });
  return { backend, service, legacy };
}

describe('legacy hashes (scheme 1) keep working and are upgraded', () => {
  it('a login with the right password is accepted and re-hashes to scheme 2 at the configured cost', async () => {
    const { backend, service } = await withLegacyHash();
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
    const stored = backend.users.all()[0]!.passwordHash;
    expect(parsePasswordHash(stored)).toMatchObject({ scheme: 2, cost: 11 });
    await expect(
      loginSession(service, parseLoginRequest({ username: 'alice', password: PASSWORD })),
    ).resolves.toBeDefined();
  });

  it('a wrong password leaves the legacy hash as it was', async () => {
    const { backend, service, legacy } = await withLegacyHash();
    expect(
      await thrown(loginSession(service, parseLoginRequest({ username: 'alice', password: 'not the password' }))),
    ).toBeInstanceOf(AuthenticationError);
    expect(backend.users.all()[0]!.passwordHash).toBe(legacy);
  });

  it('the re-hash is conditional on the old hash: a password changed meanwhile is never overwritten', async () => {
    const { backend, legacy } = await withLegacyHash();
    const [user] = backend.users.all();
    await backend.users.updateUser(user!.username, user!.userId, { passwordHash: 'tvm2$changed' });
    await expect(
      backend.users.updateUser(user!.username, user!.userId, { passwordHash: 'tvm2$rehash', ifPasswordHash: legacy }),
    ).resolves.toBeUndefined();
    expect(backend.users.all()[0]!.passwordHash).toBe('tvm2$changed');
  });
});
