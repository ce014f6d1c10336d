/**
 * The report of issue 22, reproduced in the sandbox: after `tvm-admin revoke-credentials
 * alice`, alice logs in again at once. Before, she got credentials the cut-off already denied
 * (AccessDenied on her own folder for as long as the margin, the client looping on it). Now
 * a login either works with credentials that reach her folder, or answers 503 with
 * Retry-After until the instant has passed; never dead credentials. The client waits that out
 * by itself, and the old credentials' AccessDenied names the explicit deny as AWS words it.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MemorySessionStore, TvmClient } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';
import {
  login,
  postJson,
  register,
  runAdmin,
  s3ClientFor,
  sandboxForThisFile,
  type VendResponse,
} from '../support/e2e';

const PASSWORD = 'correct horse battery';
const sandbox = sandboxForThisFile('tvm-cut-off-vending-');
const clients: S3Client[] = [];
/** A margin long enough that the instant lies well past what a vend waits for (3 s). */
const revoke = (username: string) => runAdmin(['--json', 'revoke-credentials', username], { cutOffMarginMs: 2_000 });

function s3For(vended: Pick<VendResponse, 'credentials' | 'storage'>): S3Client {
  const client = s3ClientFor(vended, { maxAttempts: 1 });
  clients.push(client);
  return client;
}

async function listOwnFolder(vended: Pick<VendResponse, 'credentials' | 'storage'>): Promise<string> {
  try {
    const { KeyCount } = await s3For(vended).send(
      new ListObjectsV2Command({ Bucket: vended.storage.bucket, Prefix: vended.storage.prefix }),
    );
    return `listed ${KeyCount ?? 0}`;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

afterAll(() => clients.forEach((client) => client.destroy()));

describe('logging in right after revoke-credentials', () => {
  it('never hands out dead credentials: a 503 with Retry-After while the cut-off lies ahead, then credentials that work at once', async () => {
    const { apiUrl } = sandbox();
    const old = await register(apiUrl, 'cut-alice', PASSWORD);
    await s3For(old).send(
      new PutObjectCommand({ Bucket: old.storage.bucket, Key: `${old.storage.prefix}notes.txt`, Body: 'mine' }),
    );
    const revoked = await revoke('cut-alice');
    expect(revoked.code).toBe(0);
    const cutOffAt = Date.parse(
      (JSON.parse(revoked.out) as { credentialsIssuedBefore: string }).credentialsIssuedBefore,
    );

    // Every login until the instant has passed is either refused with a wait or fully working.
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await postJson(`${apiUrl}/login`, { username: 'cut-alice', password: PASSWORD });
      if (answer.status === 200) {
        outcomes.push(`200, ${await listOwnFolder(answer.body as VendResponse)}`);
        break;
      }
      outcomes.push(`${answer.status} ${(answer.body as { error: { code: string } }).error.code}`);
      // The raw API gives the wait; a second later is close enough for this loop.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(outcomes.length).toBeGreaterThan(1);
    expect(outcomes.slice(0, -1)).toEqual(outcomes.slice(0, -1).map(() => '503 service_unavailable'));
    expect(outcomes.at(-1)).toBe('200, listed 1');
    expect(Date.now()).toBeGreaterThanOrEqual(cutOffAt);

    // The old credentials stay cut off, refused with AWS's wording for an explicit deny.
    expect(await listOwnFolder(old)).toMatch(
      /^AccessDenied: .* is not authorized to perform: s3:ListBucket on resource: .* with an explicit deny in an identity-based policy$/,
    );
  }, 30_000);

  it('the 503 carries Retry-After: the seconds until new credentials can be issued', async () => {
    const { apiUrl } = sandbox();
    await register(apiUrl, 'cut-bob', PASSWORD);
    const revoked = await revoke('cut-bob');
    const cutOffAt = Date.parse(
      (JSON.parse(revoked.out) as { credentialsIssuedBefore: string }).credentialsIssuedBefore,
    );
    const response = await fetch(`${apiUrl}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'cut-bob', password: PASSWORD }),
    });
    expect(response.status).toBe(503);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    // Until the instant plus STS's second resolution, rounded up: a retry then is served.
    expect(Date.now() + retryAfter * 1000).toBeGreaterThanOrEqual(cutOffAt);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((cutOffAt - Date.now()) / 1000) + 2);
  }, 30_000);

  it('the client waits out the 503 by itself: its login returns credentials TvmStorage lists the folder with', async () => {
    const { apiUrl } = sandbox();
    await register(apiUrl, 'cut-carol', PASSWORD);
    expect((await revoke('cut-carol')).code).toBe(0);
    const client = new TvmClient({ baseUrl: apiUrl, sessionStore: new MemorySessionStore() });
    const started = Date.now();
    const result = await client.login('cut-carol', PASSWORD);
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(
      await listOwnFolder({
        credentials: { ...result.credentials, expiration: result.credentials.expiration.toISOString() },
        storage: result.storage,
      }),
    ).toBe('listed 0');
    const storage = new TvmStorage({ client });
    try {
      await expect(storage.list()).resolves.toMatchObject({ files: [] });
    } finally {
      storage.dispose();
    }
  }, 30_000);

  it('an old session cannot get past the revocation, and a fresh login after the instant works without any wait', async () => {
    const { apiUrl } = sandbox();
    const old = await register(apiUrl, 'cut-dave', PASSWORD);
    const revoked = await revoke('cut-dave');
    const cutOffAt = Date.parse(
      (JSON.parse(revoked.out) as { credentialsIssuedBefore: string }).credentialsIssuedBefore,
    );
    expect(
      (await postJson(`${apiUrl}/token`, undefined, { Authorization: `Bearer ${old.session.token}` })).status,
    ).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutOffAt + 1_100 - Date.now())));
    const fresh = await login(apiUrl, 'cut-dave', PASSWORD);
    expect(await listOwnFolder(fresh)).toBe('listed 0');
  }, 30_000);
});
