/**
 * The client SDK's account calls against the sandbox: change password, reset with an
 * operator's code, list and revoke sessions. fetch is Node's own, as an app's would be.
 */
import { runCli } from '../../admin/cli';
import {
  InvalidCredentialsError,
  InvalidRequestError,
  LoginRequiredError,
  NotFoundError,
  TvmClient,
} from '@serverless-tvm/client';
import { sandboxForThisFile } from '../support/e2e';

const PASSWORD = 'correct horse battery';
const sandbox = sandboxForThisFile('tvm-client-accounts-');

const client = (device?: string) => new TvmClient({ baseUrl: sandbox().apiUrl, ...(device ? { device } : {}) });

it('changePassword keeps the client signed in with the new session and refuses the old password', async () => {
  const app = client();
  await app.register('client-kate', PASSWORD);
  await app.changePassword(PASSWORD, 'a brand new passphrase');
  await expect(app.token()).resolves.toMatchObject({ storage: { prefix: 'client-kate/' } });
  await expect(client().login('client-kate', PASSWORD)).rejects.toBeInstanceOf(InvalidCredentialsError);
  await expect(client().login('client-kate', 'a brand new passphrase')).resolves.toMatchObject({
    username: 'client-kate',
  });
});

it("listSessions shows each device, the registering one included, and revokeSession ends another device's session", async () => {
  const laptop = client('Laptop');
  const phone = client('Phone');
  await laptop.register('client-liam', PASSWORD);
  await phone.login('client-liam', PASSWORD);
  const sessions = await laptop.listSessions();
  expect(sessions.map((session) => [session.device ?? null, session.current])).toEqual([
    ['Laptop', true],
    ['Phone', false],
  ]);
  await expect(laptop.revokeSession(sessions[1]!.id)).rejects.toBeInstanceOf(InvalidRequestError);
  await laptop.revokeSession(sessions[1]!.id, { currentPassword: PASSWORD });
  await expect(phone.token()).rejects.toBeInstanceOf(LoginRequiredError);
  await expect(laptop.revokeSession(sessions[1]!.id, { currentPassword: PASSWORD })).rejects.toBeInstanceOf(
    NotFoundError,
  );
});

it("resetPassword redeems an operator's code and signs the client in", async () => {
  await client().register('client-mia', PASSWORD);
  let out = '';
  expect(
    await runCli(['--local', '--json', 'reset-code', 'client-mia'], {
      out: (text) => (out += text),
      err: () => undefined,
    }),
  ).toBe(0);
  const { code } = JSON.parse(out) as { code: string };
  const app = client();
  await expect(app.resetPassword('client-mia', code, 'reset passphrase ok')).resolves.toMatchObject({
    username: 'client-mia',
  });
  await expect(app.token()).resolves.toBeDefined();
  await expect(client().resetPassword('client-mia', code, 'second try fails')).rejects.toBeInstanceOf(
    InvalidCredentialsError,
  );
});
