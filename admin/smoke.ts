/**
 * `tvm-admin smoke`: the post-deploy check. Against a deployed stack or the sandbox, it
 * registers a throwaway user, vends credentials, proves the user's own folder works and a
 * neighbour's folder and the bucket root are refused, revokes the user and waits (bounded)
 * until the cut-off is observed, then deletes the user. The first failed step stops it and
 * is named in the error; the throwaway user is removed whatever happened.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import type { DomainLog } from '../lambda/platform/audit';
import { parseUsername, type Username } from '../lambda/accounts/username';
import { deleteUser, revokeCredentials, type LifecycleContext } from './lifecycle';
import { sharingLifecycle } from './sharing';
import { accountAdmin, revocationList, type Progress } from './operations';
import { AdminError, type AdminTarget } from './target';

/** How the smoke test runs. */
export interface SmokeOptions {
  readonly progress: Progress;
  readonly log: DomainLog;
  /**
   * How long to wait for the cut-off of issued credentials to be observed. IAM applies a
   * role policy change within seconds; AWS documents a minute or so of propagation.
   * @default 180000
   */
  readonly cutoffTimeoutMs?: number;
  /** @default 2000 */
  readonly pollIntervalMs?: number;
}

/** One step that passed, and how long it took. */
export interface SmokeStep {
  readonly step: string;
  readonly ms: number;
}

/** The result of a smoke test that passed. */
export interface SmokeReport {
  readonly target: string;
  readonly username: string;
  readonly steps: readonly SmokeStep[];
}

/** A smoke test that failed: names the step (number and name) and what was seen. */
export class SmokeFailedError extends AdminError {
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(`smoke test failed at step "${step}": ${detail}`);
    this.name = 'SmokeFailedError';
  }
}

/** The steps, in order; each failure names one. */
export const SMOKE_STEPS = [
  '1 register a throwaway user',
  '2 vend credentials at /token',
  '3 write, read and list its own folder',
  "4 a neighbour's folder is refused",
  '5 the bucket root is refused',
  '6 revoke the user',
  '7 the cut-off is observed',
  '8 delete the user',
] as const;
type StepName = (typeof SMOKE_STEPS)[number];

interface Vended {
  readonly session?: { readonly token: string };
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  };
  readonly storage: {
    readonly bucket: string;
    readonly prefix: string;
    readonly region: string;
    readonly endpoint?: string;
  };
}

async function callApi(
  target: AdminTarget,
  path: string,
  init: { body?: unknown; token?: string },
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${target.apiUrl}${path}`, {
    method: 'POST',
    headers: {
      ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
      'User-Agent': 'tvm-admin smoke',
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's page): reported as text.
  }
  return { status: response.status, body };
}

function expectStatus(answer: { status: number; body: unknown }, status: number, what: string): void {
  if (answer.status !== status) {
    const code = (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
    throw new Error(`${what} answered ${answer.status}${code ? ` (${code})` : ''}, expected ${status}`);
  }
}

/** An S3 client for vended credentials, as an app builds one. */
function userS3(vended: Vended): S3Client {
  const { storage, credentials } = vended;
  return new S3Client({
    region: storage.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    ...(storage.endpoint ? { endpoint: storage.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

/** Resolves `allowed`, `AccessDenied` or the error's name for one S3 call. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'allowed';
  } catch (error) {
    if (error instanceof S3ServiceException)
      return error.$metadata.httpStatusCode === 403 ? 'AccessDenied' : error.name;
    throw error;
  }
}

async function expectRefused(what: string, call: Promise<unknown>): Promise<void> {
  const result = await outcome(call);
  if (result !== 'AccessDenied') throw new Error(`${what}: expected AccessDenied, got ${result}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the smoke test against `target`; throws {@link SmokeFailedError} at the first failed step. */
export async function runSmoke(target: AdminTarget, options: SmokeOptions): Promise<SmokeReport> {
  const { progress } = options;
  const lifecycle: LifecycleContext = {
    admin: accountAdmin(target, options.log),
    revocations: revocationList(target, progress),
    sharing: sharingLifecycle(target),
    target,
    progress,
  };
  // Random, so parallel runs and leftovers never collide; never a real user's name shape.
  const username: Username = parseUsername(`smoke-${randomBytes(6).toString('hex')}`);
  const password = `smoke ${randomBytes(18).toString('base64url')}`;
  const steps: SmokeStep[] = [];
  let registered = false;
  let s3: S3Client | undefined;

  const step = async <T>(name: StepName, run: () => Promise<T>): Promise<T> => {
    progress(`smoke: ${name}...`);
    const started = Date.now();
    try {
      const result = await run();
      steps.push({ step: name, ms: Date.now() - started });
      return result;
    } catch (error) {
      throw new SmokeFailedError(name, error instanceof Error ? error.message.split('\n')[0]! : String(error));
    }
  };

  try {
    progress(`smoke: against ${target.description}, as ${username}`);
    const registeredAnswer = await step('1 register a throwaway user', async () => {
      const answer = await callApi(target, '/register', { body: { username, password } });
      expectStatus(answer, 201, 'POST /register');
      registered = true;
      const vended = answer.body as Vended;
      if (vended.storage?.prefix !== `${username}/`)
        throw new Error(`storage.prefix is ${JSON.stringify(vended.storage?.prefix)}, expected "${username}/"`);
      return vended;
    });
    const session = registeredAnswer.session?.token ?? '';

    const vended = await step('2 vend credentials at /token', async () => {
      const answer = await callApi(target, '/token', { token: session });
      expectStatus(answer, 200, 'POST /token');
      return answer.body as Vended;
    });
    s3 = userS3(vended);
    const userS3Client = s3;
    const bucket = vended.storage.bucket;
    const ownKey = `${vended.storage.prefix}smoke.txt`;

    await step('3 write, read and list its own folder', async () => {
      const content = `tvm-admin smoke ${new Date().toISOString()}`;
      await userS3Client.send(new PutObjectCommand({ Bucket: bucket, Key: ownKey, Body: content }));
      const read = await userS3Client.send(new GetObjectCommand({ Bucket: bucket, Key: ownKey }));
      const body = await read.Body?.transformToString();
      if (body !== content) throw new Error(`read back ${JSON.stringify(body)}, expected what was written`);
      const listed = await userS3Client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: vended.storage.prefix }),
      );
      if (!(listed.Contents ?? []).some((object) => object.Key === ownKey))
        throw new Error(`listing ${vended.storage.prefix} does not show ${ownKey}`);
    });

    await step("4 a neighbour's folder is refused", async () => {
      // A prefix neighbour: the one a policy without the trailing "/" would let in.
      const neighbour = `${username}0/`;
      await expectRefused(
        `listing ${neighbour}`,
        userS3Client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: neighbour })),
      );
      await expectRefused(
        `reading ${neighbour}smoke.txt`,
        userS3Client.send(new GetObjectCommand({ Bucket: bucket, Key: `${neighbour}smoke.txt` })),
      );
      const write = await outcome(
        userS3Client.send(new PutObjectCommand({ Bucket: bucket, Key: `${neighbour}smoke.txt`, Body: 'x' })),
      );
      if (write !== 'AccessDenied') {
        if (write === 'allowed')
          await target.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${neighbour}smoke.txt` }));
        throw new Error(`writing ${neighbour}smoke.txt: expected AccessDenied, got ${write}`);
      }
    });

    await step('5 the bucket root is refused', async () => {
      await expectRefused('listing the bucket root', userS3Client.send(new ListObjectsV2Command({ Bucket: bucket })));
      await expectRefused(
        'listing with an empty prefix',
        userS3Client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '' })),
      );
      const write = await outcome(
        userS3Client.send(new PutObjectCommand({ Bucket: bucket, Key: `${username}.txt`, Body: 'x' })),
      );
      if (write !== 'AccessDenied') {
        if (write === 'allowed')
          await target.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${username}.txt` }));
        throw new Error(`writing ${username}.txt at the root: expected AccessDenied, got ${write}`);
      }
    });

    await step('6 revoke the user', () => revokeCredentials(lifecycle, username));

    await step('7 the cut-off is observed', async () => {
      const token = await callApi(target, '/token', { token: session });
      expectStatus(token, 401, 'POST /token with the revoked session');
      const timeoutMs = options.cutoffTimeoutMs ?? 180_000;
      const started = Date.now();
      for (let attempt = 1; ; attempt += 1) {
        const read = await outcome(userS3Client.send(new GetObjectCommand({ Bucket: bucket, Key: ownKey })));
        if (read === 'AccessDenied') return;
        const waited = Date.now() - started;
        if (waited >= timeoutMs) {
          throw new Error(
            `credentials issued before the revocation still read ${ownKey} after ${Math.round(waited / 1000)} s (${read})`,
          );
        }
        // One line for the whole wait, saying how long it may last.
        if (attempt === 1) {
          progress(
            `smoke: issued credentials still work after ${Math.round(waited / 1000)} s (attempt ${attempt}); waiting up to ${Math.round(timeoutMs / 1000)} s, checking every ${Math.round((options.pollIntervalMs ?? 2_000) / 100) / 10} s...`,
          );
        }
        await sleep(options.pollIntervalMs ?? 2_000);
      }
    });

    await step('8 delete the user', async () => {
      await deleteUser(lifecycle, username, true);
      registered = false;
    });
    return { target: target.description, username, steps };
  } finally {
    s3?.destroy();
    if (registered) {
      // A failed run still removes its throwaway user (best effort: the failure is the news).
      try {
        await deleteUser(lifecycle, username, true);
        progress(`smoke: removed the throwaway user ${username}`);
      } catch (error) {
        options.log.warn(
          `could not remove the throwaway user ${username}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
