/**
 * The client's side of quotas and sign-up control: `storage.usage` on register, login and
 * `/token` results, `usage()` and the credentials events; QuotaExceededError (not
 * AccessCutOffError) when S3 refuses a write and the TVM says the folder is over its quota;
 * the invite sent on register and on a first provider sign-in; the typed refusals.
 */
import {
  AccessCutOffError,
  Connectivity,
  InviteRequiredError,
  QuotaExceededError,
  RegistrationClosedError,
  TvmClient,
  UnexpectedResponseError,
  type CredentialsEvent,
  type StorageUsage,
} from '@serverless-tvm/client';
import { sendWithRecovery, TvmStorage, type RecoveryContext } from '@serverless-tvm/client/storage';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { apiError, FakeTvm, json, loggedInClient, sessionResult, vendResult } from './fake-tvm';

const UNDER: StorageUsage = { bytes: 900_000, objects: 3, quotaBytes: 1_000_000, overQuota: false };
const OVER: StorageUsage = { bytes: 1_200_000, objects: 4, quotaBytes: 1_000_000, overQuota: true };

function withUsage<T extends { storage: object }>(result: T, usage: StorageUsage): T {
  return { ...result, storage: { ...result.storage, usage } };
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

function recovery(
  usage: () => StorageUsage | undefined,
  write: boolean,
  onRefresh: () => void = () => undefined,
): RecoveryContext & { refreshes: () => number } {
  let refreshes = 0;
  return {
    policy: { initialDelayMs: 1, maxDelayMs: 2, patienceMs: 1_000 },
    connectivity: new Connectivity(),
    refreshCredentials: async () => {
      refreshes++;
      onRefresh();
    },
    ...(write ? { writeUsage: usage } : {}),
    now: Date.now,
    random: () => 0.5,
    refreshes: () => refreshes,
  };
}

describe('usage on the session and on credentials events', () => {
  it('register, token and logout: usage() follows the latest credentials and every vend is an event', async () => {
    const tvm = new FakeTvm();
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch });
    const events: CredentialsEvent[] = [];
    client.onCredentials((event) => events.push(event));
    tvm.answer(
      json(201, withUsage(sessionResult('alice'), { bytes: 0, objects: 0, quotaBytes: null, overQuota: false })),
    );
    const registered = await client.register('alice', 'correct horse battery');
    expect(registered.storage.usage).toEqual({ bytes: 0, objects: 0, quotaBytes: null, overQuota: false });
    tvm.answer(json(200, withUsage(vendResult(), OVER)));
    expect((await client.token()).storage.usage).toEqual(OVER);
    expect(client.usage()).toEqual(OVER);
    expect(events.map((event) => [event.type, event.username, event.usage.overQuota])).toEqual([
      ['credentials', 'alice', false],
      ['credentials', 'alice', true],
    ]);
    tvm.answer(new Response(null, { status: 204 }));
    await client.logout();
    expect(client.usage()).toBeUndefined();
  });

  it('refuses a vend whose usage is missing or malformed, as any answer outside the contract', async () => {
    const tvm = new FakeTvm();
    const client = loggedInClient(tvm);
    const { usage: _dropped, ...storageWithout } = vendResult().storage;
    tvm.answer(
      json(200, { ...vendResult(), storage: storageWithout }),
      json(200, withUsage(vendResult(), { bytes: 'lots' } as never)),
    );
    await expect(client.token()).rejects.toBeInstanceOf(UnexpectedResponseError);
    await expect(client.token()).rejects.toBeInstanceOf(UnexpectedResponseError);
    expect(client.usage()).toBeUndefined();
  });
});

describe('sign-up control', () => {
  it('sends the invite on register and on a first provider sign-in', async () => {
    const tvm = new FakeTvm();
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch });
    tvm.answer(json(201, sessionResult('alice')), json(201, sessionResult('bob')));
    await client.register('alice', 'correct horse battery', { invite: 'A'.repeat(22) });
    await client.loginWithIdToken({ provider: 'google', idToken: 'id.token', username: 'bob', invite: 'B'.repeat(22) });
    expect(tvm.requests.map((request) => (request.body as { invite?: string }).invite)).toEqual([
      'A'.repeat(22),
      'B'.repeat(22),
    ]);
  });

  it('types the refusals: InviteRequiredError and RegistrationClosedError (403)', async () => {
    const tvm = new FakeTvm();
    const client = new TvmClient({ baseUrl: 'https://tvm.example.com', fetch: tvm.fetch });
    tvm.answer(apiError(403, 'invite_required', 'needs an invite'), apiError(403, 'registration_closed', 'closed'));
    await expect(client.register('alice', 'correct horse battery')).rejects.toBeInstanceOf(InviteRequiredError);
    await expect(client.register('alice', 'correct horse battery')).rejects.toMatchObject({
      code: 'registration_closed',
      status: 403,
      constructor: RegistrationClosedError,
    });
  });
});

describe('QuotaExceededError', () => {
  it('a refused write whose fresh credentials say over quota is QuotaExceededError, not sent again', async () => {
    let usage: StorageUsage = UNDER;
    const context = recovery(
      () => usage,
      true,
      () => {
        usage = OVER;
      },
    );
    let sends = 0;
    const denied = s3Error('AccessDenied', 403);
    const error = await sendWithRecovery(async () => {
      sends++;
      throw denied;
    }, context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error).toMatchObject({ code: 'quota_exceeded', usage: OVER, status: 403, cause: denied });
    expect((error as Error).message).toMatch(/delete some files/);
    expect(sends).toBe(1);
  });

  it('a refused write whose fresh credentials are under quota is sent again and succeeds (files were deleted)', async () => {
    let usage: StorageUsage = OVER;
    const context = recovery(
      () => usage,
      true,
      () => {
        usage = UNDER;
      },
    );
    let sends = 0;
    const stored = await sendWithRecovery(async () => {
      if (++sends === 1) throw s3Error('AccessDenied', 403);
      return 'stored';
    }, context);
    expect(stored).toBe('stored');
  });

  it('a write refused twice while under quota is still AccessCutOffError; a read refused twice over quota is too', async () => {
    const refused = async () => {
      throw s3Error('AccessDenied', 403);
    };
    await expect(
      sendWithRecovery(
        refused,
        recovery(() => UNDER, true),
      ),
    ).rejects.toBeInstanceOf(AccessCutOffError);
    await expect(
      sendWithRecovery(
        refused,
        recovery(() => OVER, false),
      ),
    ).rejects.toBeInstanceOf(AccessCutOffError);
    await expect(
      sendWithRecovery(
        refused,
        recovery(() => undefined, true),
      ),
    ).rejects.toBeInstanceOf(AccessCutOffError);
  });
});

describe('TvmStorage over quota', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());

  it('an upload refused while over quota rejects with QuotaExceededError after one fresh vend; deleting still works', async () => {
    const tvm = new FakeTvm(() => json(200, withUsage(vendResult(), OVER)));
    tvm.answer(json(200, withUsage(vendResult(), UNDER)));
    const storage = new TvmStorage({ client: loggedInClient(tvm), recovery: { initialDelayMs: 1, maxDelayMs: 2 } });
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    s3.on(DeleteObjectCommand).resolves({});
    const error = await storage.upload('more.bin', new Uint8Array(10)).done.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error).toMatchObject({ usage: OVER });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    expect(tvm.callsTo('/token')).toHaveLength(2);
    await expect(storage.delete('old.bin')).resolves.toBeUndefined();
    storage.dispose();
  });
});
