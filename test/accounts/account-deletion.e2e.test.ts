/**
 * Self-service deletion in the sandbox, end to end: `DELETE /account` with a step-up, then
 * the deletion worker (the sandbox's sweep, the same code as the scheduled function) cuts
 * off every credential, deletes the folder and holds the name, as `tvm-admin users delete
 * --delete-files` does. A thief with a stolen session but no password changes nothing, and on
 * an account with a second factor the password alone is refused.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { totpCode } from '../../lambda/second-factor/totp';
import { postJson, register, s3ClientFor, s3ErrorCode, sandboxForThisFile, type VendResponse } from '../support/e2e';

const PASSWORD = 'correct horse battery';
const sandbox = sandboxForThisFile('tvm-account-deletion-');
const clients: S3Client[] = [];
afterAll(() => clients.forEach((client) => client.destroy()));

function s3For(vended: Pick<VendResponse, 'credentials' | 'storage'>): S3Client {
  const client = s3ClientFor(vended);
  clients.push(client);
  return client;
}

/** `DELETE /account` with a JSON body (or none) and a session token. */
async function deleteAccount(
  token: string,
  body?: unknown,
): Promise<{
  status: number;
  body: { deletion?: { status: string; completesAfter: string }; error?: { code: string } };
}> {
  const response = await fetch(`${sandbox().apiUrl}/account`, {
    method: 'DELETE',
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as never) : ({} as never) };
}

/** What the operator sees under a folder (tvm-admin --local's S3 client). */
async function folderKeys(username: string): Promise<string[]> {
  const { localTarget } = await import('../../admin/target');
  const target = localTarget();
  try {
    const { Contents } = await target.s3.send(
      new ListObjectsV2Command({ Bucket: target.bucketName, Prefix: `${username}/` }),
    );
    return (Contents ?? []).map((object) => object.Key ?? '');
  } finally {
    target.close();
  }
}

async function listOwn(vended: VendResponse): Promise<string> {
  return s3ErrorCode(
    s3For(vended).send(new ListObjectsV2Command({ Bucket: vended.storage.bucket, Prefix: vended.storage.prefix })),
  );
}

/** Sweeps until the user's deletion has finished (the sandbox's timer may run some of the steps). */
async function sweepUntilDeleted(username: string): Promise<void> {
  for (let sweep = 0; sweep < 5; sweep++) {
    const outcomes = await sandbox().sweepDeletions();
    const mine = outcomes.find((outcome) => outcome.username === username);
    if (mine?.error) throw mine.error;
    if (mine?.progress?.state === 'deleted') return;
    if (!mine && (await postJson(`${sandbox().apiUrl}/register`, { username, password: PASSWORD })).status === 409)
      return;
  }
  throw new Error(`${username}'s deletion did not finish in five sweeps`);
}

describe('DELETE /account', () => {
  it('alice deletes herself with her password: 202, her session and credentials die, then her files go and her name is held', async () => {
    const { apiUrl } = sandbox();
    const alice = await register(apiUrl, 'del-alice', PASSWORD);
    const s3 = s3For(alice);
    for (const key of ['notes.txt', 'photos/cat.jpg']) {
      await s3.send(
        new PutObjectCommand({ Bucket: alice.storage.bucket, Key: `${alice.storage.prefix}${key}`, Body: key }),
      );
    }
    expect(await folderKeys('del-alice')).toHaveLength(2);

    const answer = await deleteAccount(alice.session.token, { currentPassword: PASSWORD });
    expect(answer.status).toBe(202);
    expect(answer.body.deletion?.status).toBe('pending');
    expect(Date.parse(answer.body.deletion?.completesAfter ?? '')).toBeGreaterThan(Date.now() - 60_000);

    // At once: the session is dead, the password no longer logs in, nothing more is vended.
    expect(
      (await postJson(`${apiUrl}/token`, undefined, { Authorization: `Bearer ${alice.session.token}` })).status,
    ).toBe(401);
    expect((await postJson(`${apiUrl}/login`, { username: 'del-alice', password: PASSWORD })).status).toBe(401);

    // The worker's first step puts the cut-off on the vending role: her vended credentials are denied.
    await sandbox().sweepDeletions();
    expect(await listOwn(alice)).toBe('AccessDenied');
    expect(
      await s3ErrorCode(
        s3.send(
          new PutObjectCommand({ Bucket: alice.storage.bucket, Key: `${alice.storage.prefix}late.txt`, Body: 'x' }),
        ),
      ),
    ).toBe('AccessDenied');

    await sweepUntilDeleted('del-alice');
    expect(await folderKeys('del-alice')).toEqual([]);
    const again = await postJson(`${apiUrl}/register`, { username: 'del-alice', password: 'another horse battery' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'username_taken' } } });
  });

  it('a thief with a stolen session but no password gets 401 (400 without a body), and nothing changes', async () => {
    const { apiUrl } = sandbox();
    const bob = await register(apiUrl, 'del-bob', PASSWORD);
    await s3For(bob).send(
      new PutObjectCommand({ Bucket: bob.storage.bucket, Key: `${bob.storage.prefix}keep.txt`, Body: 'keep' }),
    );
    expect((await deleteAccount(bob.session.token, { currentPassword: 'not the password' })).status).toBe(401);
    expect((await deleteAccount(bob.session.token)).status).toBe(400);
    expect((await deleteAccount('x'.repeat(43), { currentPassword: PASSWORD })).status).toBe(401);

    const outcomes = await sandbox().sweepDeletions();
    expect(outcomes.filter((outcome) => outcome.username === 'del-bob')).toEqual([]);
    expect(
      (await postJson(`${apiUrl}/token`, undefined, { Authorization: `Bearer ${bob.session.token}` })).status,
    ).toBe(200);
    expect(await listOwn(bob)).toBe('resolved');
    expect(await folderKeys('del-bob')).toEqual(['del-bob/keep.txt']);
  });

  it('on an account with an authenticator app the password alone is refused; the second factor deletes it', async () => {
    const { apiUrl } = sandbox();
    const carol = await register(apiUrl, 'del-carol', PASSWORD);
    const auth = { Authorization: `Bearer ${carol.session.token}` };
    const started = await postJson(`${apiUrl}/mfa/totp`, { currentPassword: PASSWORD }, auth);
    const { secret } = started.body as { secret: string };
    const confirmed = await postJson(`${apiUrl}/mfa/totp/confirm`, { code: totpCode(secret, Date.now()) }, auth);
    const { recoveryCodes } = confirmed.body as { recoveryCodes: string[] };

    const passwordOnly = await deleteAccount(carol.session.token, { currentPassword: PASSWORD });
    expect(passwordOnly).toMatchObject({ status: 401, body: { error: { code: 'second_factor_required' } } });
    expect((await postJson(`${apiUrl}/token`, undefined, auth)).status).toBe(200);

    expect((await deleteAccount(carol.session.token, { recoveryCode: recoveryCodes[0] })).status).toBe(202);
    await sweepUntilDeleted('del-carol');
    expect((await postJson(`${apiUrl}/register`, { username: 'del-carol', password: PASSWORD })).status).toBe(409);
  });
});
