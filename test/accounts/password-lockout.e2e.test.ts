/**
 * Issue 14 in the sandbox, over HTTP with the client SDK: long passwords in any script,
 * breached and context passwords refused with a plain 400, a stranger's lockout that spares
 * the owner's trusted device, and an operator's reset code that works for a locked-out user.
 */
import { InvalidCredentialsError, InvalidRequestError, TooManyAttemptsError, TvmClient } from '@serverless-tvm/client';
import { postJson, runAdmin, sandboxForThisFile } from '../support/e2e';

const PASSWORD = 'correct horse battery';
const sandbox = sandboxForThisFile('tvm-password-lockout-');
const client = () => new TvmClient({ baseUrl: sandbox().apiUrl });

it('registers with a 256-character Greek passphrase and logs in with exactly it, not with its first 72 bytes', async () => {
  const passphrase = 'λόγος'.repeat(51) + 'ω';
  expect([...passphrase]).toHaveLength(256);
  await client().register('e2e-greek', passphrase);
  await expect(client().login('e2e-greek', passphrase)).resolves.toMatchObject({ username: 'e2e-greek' });
  const prefix = Buffer.from(passphrase).subarray(0, 72).toString();
  await expect(client().login('e2e-greek', prefix)).rejects.toBeInstanceOf(InvalidCredentialsError);
});

it('refuses password1234 and a password built on the username with a 400 that says why', async () => {
  const common = await postJson(`${sandbox().apiUrl}/register`, { username: 'e2e-common', password: 'password1234' });
  expect(common).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', field: 'password' } } });
  expect(JSON.stringify(common.body)).toMatch(/most common passwords/);
  const context = await postJson(`${sandbox().apiUrl}/register`, { username: 'e2e-zoe', password: 'e2e-zoe!2024' });
  expect(JSON.stringify(context.body)).toMatch(/too close to your username/);
});

it("a stranger's five wrong guesses lock unknown devices, but not the owner's phone; an operator's code resets the account", async () => {
  const phone = client();
  await phone.register('e2e-owner', PASSWORD);
  await phone.logout();
  for (let guess = 0; guess < 5; guess++)
    await expect(client().login('e2e-owner', `guess ${guess}!`)).rejects.toBeInstanceOf(InvalidCredentialsError);
  await expect(client().login('e2e-owner', PASSWORD)).rejects.toBeInstanceOf(TooManyAttemptsError);
  // The phone kept its device token across the logout and sends it: not locked out.
  await expect(phone.login('e2e-owner', PASSWORD)).resolves.toMatchObject({ username: 'e2e-owner' });

  const issued = await runAdmin(['--json', 'reset-code', 'e2e-owner']);
  expect(issued.code).toBe(0);
  const { code } = JSON.parse(issued.out) as { code: string };
  await expect(client().resetPassword('e2e-owner', code, 'password1234')).rejects.toBeInstanceOf(InvalidRequestError);
  await expect(client().resetPassword('e2e-owner', code, 'a fresh long passphrase')).resolves.toMatchObject({
    username: 'e2e-owner',
  });
  await expect(client().login('e2e-owner', 'a fresh long passphrase')).resolves.toMatchObject({
    username: 'e2e-owner',
  });
});
