/**
 * QA regressions for the account lifecycle, tried as an attacker holding one user's session
 * and a reset code issued before the operator acted: a disabled or deleted account's
 * outstanding reset code vends nothing, and one user cannot revoke another's session.
 */
import { postJson, register, runAdmin, sandboxForThisFile } from './helpers';

const sandbox = sandboxForThisFile('tvm-qa-accounts-');
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase here';

async function resetCode(username: string): Promise<string> {
  const issued = await runAdmin(['--json', 'reset-code', username]);
  expect(issued.code).toBe(0);
  return (JSON.parse(issued.out) as { code: string }).code;
}

const redeem = (username: string, code: string) => postJson(`${sandbox().apiUrl}/password/reset`, { username, resetCode: code, newPassword: NEW_PASSWORD });

test.each([
  ['disabled', ['users', 'disable']],
  ['deleted', ['users', 'delete', '--yes']],
])('a reset code issued before the account was %s is refused and vends no credentials', async (state, command) => {
  const username = `qa-${state}`;
  await register(sandbox().apiUrl, username, PASSWORD);
  const code = await resetCode(username);
  expect((await runAdmin([...command, username], { cutOffMarginMs: 1000 })).code).toBe(0);
  const redeemed = await redeem(username, code);
  expect(redeemed.status).toBe(401);
  expect(JSON.stringify(redeemed.body)).not.toContain('accessKeyId');
  expect((await postJson(`${sandbox().apiUrl}/login`, { username, password: NEW_PASSWORD })).status).toBe(401);
});

test("alice cannot revoke bob's session by its id: 404, and bob's session keeps working", async () => {
  const alice = await register(sandbox().apiUrl, 'qa-alice', PASSWORD);
  const bob = await register(sandbox().apiUrl, 'qa-bob', PASSWORD);
  const bobAuth = { Authorization: `Bearer ${bob.session.token}` };
  const listed = await fetch(`${sandbox().apiUrl}/sessions`, { headers: bobAuth });
  const [bobsSession] = ((await listed.json()) as { sessions: { id: string }[] }).sessions;
  const revoked = await fetch(`${sandbox().apiUrl}/sessions/${encodeURIComponent(bobsSession!.id)}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${alice.session.token}` },
  });
  expect(revoked.status).toBe(404);
  expect((await postJson(`${sandbox().apiUrl}/token`, undefined, bobAuth)).status).toBe(200);
});
