/**
 * The everyday S3 clients against the sandbox, as installed from Debian (test/system-packages.json):
 * the AWS CLI v2 (/usr/bin/aws), boto3 (/usr/bin/python3), rclone and s3cmd. Each works in
 * its user's own folder (uploads and downloads, multipart above 5 MiB, server-side copies of
 * 8 MiB and more, paginated listings, sync, presigned URLs), and each is refused in a
 * neighbour's folder (al/alice, ab/ab.c) for list, get, put, copy-from, delete and multi-delete,
 * with the neighbour's objects unchanged afterwards.
 *
 * Every client runs with the AWS_* variables of this process cleared, a fresh HOME (no
 * profile, no ~/.aws, ~/.s3cfg or rclone config), AWS_EC2_METADATA_DISABLED=true, and its
 * credentials in its environment only, so none looks for credentials off the loopback.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { register, s3ClientFor, type VendResponse } from '../support/e2e';

const PASSWORD = 'correct horse battery staple';
/** Above every client's multipart threshold as set below (5 MiB) and the CLI's (8 MiB). */
const BIG_BYTES = 9 * 1024 * 1024;
/**
 * Neighbours whose names are prefixes of each other's (`al`/`alice`; `ab`/`ab.c`, the shape of
 * `a`/`a.b` with the shortest names the username rules allow).
 */
const PAIRS = [
  { attacker: 'al', victim: 'alice' },
  { attacker: 'ab', victim: 'ab.c' },
] as const;
const USERS = ['alice', 'al', 'ab', 'ab.c'] as const;
type User = (typeof USERS)[number];

let sandbox: Sandbox;
let work: string;
let bigFile: string;
const vended = new Map<User, VendResponse>();
const sdk = new Map<User, S3Client>();

interface Run {
  readonly code: number;
  readonly out: string;
}

/** Runs a client with a clean environment; never rejects (the exit code is part of the answer). */
function run(
  file: string,
  args: readonly string[],
  user: User,
  extraEnv: Record<string, string> = {},
  stdin?: string,
): Promise<Run> {
  const credentials = vended.get(user)!.credentials;
  const home = join(work, `home-${user}`);
  mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          !entry[0].startsWith('AWS_') && !entry[0].startsWith('RCLONE_') && entry[1] !== undefined,
      ),
    ),
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_DEFAULT_REGION: sandbox.region,
    AWS_PAGER: '',
    ...extraEnv,
  };
  return new Promise((resolve) => {
    const child = execFile(
      file,
      [...args],
      { env, cwd: work, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

const aws = (user: User, ...args: string[]) => run('/usr/bin/aws', ['--endpoint-url', sandbox.s3Url, ...args], user);

/** rclone with an ordinary `provider = Other` remote named `sb`, defined in the environment. */
const rclone = (user: User, ...args: string[]) =>
  run(
    '/usr/bin/rclone',
    ['--retries', '1', '--low-level-retries', '1', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', ...args],
    user,
    {
      RCLONE_CONFIG: join(work, 'rclone.conf'),
      RCLONE_CONFIG_SB_TYPE: 's3',
      RCLONE_CONFIG_SB_PROVIDER: 'Other',
      RCLONE_CONFIG_SB_ENV_AUTH: 'true',
      RCLONE_CONFIG_SB_ENDPOINT: sandbox.s3Url,
      RCLONE_CONFIG_SB_REGION: sandbox.region,
      RCLONE_CONFIG_SB_FORCE_PATH_STYLE: 'true',
      // The user may not create buckets, here as on AWS: rclone's documented setting for that.
      RCLONE_CONFIG_SB_NO_CHECK_BUCKET: 'true',
    },
  );

/** s3cmd with a config naming the endpoint only; the keys come from the environment. */
const s3cmd = (user: User, ...args: string[]) => run('/usr/bin/s3cmd', ['-c', join(work, 's3cfg'), ...args], user);

/** A boto3 script (/usr/bin/python3), given the endpoint in ENDPOINT. */
const boto3 = (user: User, script: string) =>
  run('/usr/bin/python3', ['-c', script], user, { ENDPOINT: sandbox.s3Url });

const BOTO3_PRELUDE = `
import os, sys, urllib.request, urllib.error
import boto3
from botocore.config import Config
from boto3.s3.transfer import TransferConfig
s3 = boto3.client('s3', endpoint_url=os.environ['ENDPOINT'], config=Config(s3={'addressing_style': 'path'}, signature_version='s3v4', retries={'max_attempts': 1}))
transfer = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
`;

function expectOk(result: Run): void {
  expect({ code: result.code, out: result.code === 0 ? '' : result.out }).toEqual({ code: 0, out: '' });
}

/** A refusal: a non-zero exit that reports AccessDenied (or the 403 of a HEAD, which has no body), or `refusal` when given. */
function expectRefused(result: Run, what: string, refusal = /AccessDenied|403|Forbidden/): void {
  const refused = result.code !== 0 && refusal.test(result.out);
  expect({ what, refused, out: refused ? '' : result.out.slice(-400) }).toEqual({ what, refused: true, out: '' });
}

/** What each neighbour test tries, in this order. */
const ATTEMPTS = ['list', 'get', 'put', 'copy-from', 'delete', 'multi-delete'] as const;

/** Runs one client's six attempts at once; each must be refused (`refusals` overrides the pattern of one). */
async function expectEachRefused(
  attempts: readonly Promise<Run>[],
  refusals: Partial<Record<(typeof ATTEMPTS)[number], RegExp>> = {},
): Promise<void> {
  const results = await Promise.all(attempts);
  expect(results).toHaveLength(ATTEMPTS.length);
  results.forEach((result, index) => {
    const what = ATTEMPTS[index]!;
    expectRefused(result, what, refusals[what]);
  });
}

/** Keys, sizes and ETags in a user's folder, read with that user's own credentials. */
async function folder(user: User): Promise<string[]> {
  const listed = await sdk.get(user)!.send(new ListObjectsV2Command({ Bucket: sandbox.bucket, Prefix: `${user}/` }));
  return (listed.Contents ?? []).map(({ Key, Size, ETag }) => `${Key} ${Size} ${ETag}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tvm-clients-'));
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir: join(work, 'data'), bcryptCost: 10 });
  for (const user of USERS) {
    vended.set(user, await register(sandbox.apiUrl, user, PASSWORD));
    sdk.set(user, s3ClientFor(vended.get(user)!));
    await sdk
      .get(user)!
      .send(new PutObjectCommand({ Bucket: sandbox.bucket, Key: `${user}/secret.txt`, Body: `${user}'s secret` }));
  }
  bigFile = join(work, 'big.bin');
  writeFileSync(bigFile, randomBytes(BIG_BYTES));
  writeFileSync(join(work, 'small.txt'), 'small file\n');
  mkdirSync(join(work, 'tree', 'sub'), { recursive: true });
  for (const name of ['one.txt', 'two.txt', 'sub/three.txt']) writeFileSync(join(work, 'tree', name), `${name}\n`);
  const endpoint = new URL(sandbox.s3Url).host;
  // rclone reads its remote from the environment; an empty file keeps it from any other config.
  writeFileSync(join(work, 'rclone.conf'), '');
  writeFileSync(
    join(work, 's3cfg'),
    `[default]\nhost_base = ${endpoint}\nhost_bucket = ${endpoint}\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n`,
  );
}, 60_000);

afterAll(async () => {
  for (const client of sdk.values()) client.destroy();
  await sandbox?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe('in their own folder', () => {
  test('the AWS CLI v2: cp up and down (multipart), a server-side copy of 9 MiB, mv, sync both ways, ls paginated one key a page', async () => {
    const base = `s3://${sandbox.bucket}/alice/cli`;
    expectOk(await aws('alice', 's3', 'cp', bigFile, `${base}/big.bin`));
    expectOk(await aws('alice', 's3', 'cp', join(work, 'small.txt'), `${base}/small.txt`));
    // The CLI copies tags (GetObjectTagging) and, at 8 MiB and more, copies in parts (UploadPartCopy).
    expectOk(await aws('alice', 's3', 'cp', `${base}/big.bin`, `${base}/big-copy.bin`));
    expectOk(await aws('alice', 's3', 'cp', `${base}/big-copy.bin`, join(work, 'cli-down.bin')));
    expect(same(bigFile, join(work, 'cli-down.bin'))).toBe(true);
    expectOk(await aws('alice', 's3', 'mv', `${base}/small.txt`, `${base}/moved.txt`));
    expectOk(await aws('alice', 's3', 'sync', join(work, 'tree'), `${base}/tree`));
    expectOk(await aws('alice', 's3', 'sync', `${base}/tree`, join(work, 'cli-tree')));
    expect(readFileSync(join(work, 'cli-tree', 'sub', 'three.txt'), 'utf8')).toBe('sub/three.txt\n');
    const listed = await aws('alice', 's3', 'ls', '--recursive', '--page-size', '1', `${base}/`);
    expectOk(listed);
    expect(
      listed.out
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).pop()),
    ).toEqual(
      [
        'alice/cli/big-copy.bin',
        'alice/cli/big.bin',
        'alice/cli/moved.txt',
        'alice/cli/tree/one.txt',
        'alice/cli/tree/sub/three.txt',
        'alice/cli/tree/two.txt',
      ].sort(),
    );
  }, 90_000);

  test('boto3: managed upload, download and copy (multipart), a paginator one key a page, presigned GET and PUT', async () => {
    const result = await boto3(
      'alice',
      `${BOTO3_PRELUDE}
big = ${JSON.stringify(bigFile)}
s3.upload_file(big, 'tvm-files', 'alice/boto/big.bin', Config=transfer)
s3.copy({'Bucket': 'tvm-files', 'Key': 'alice/boto/big.bin'}, 'tvm-files', 'alice/boto/big-copy.bin', Config=transfer)
s3.download_file('tvm-files', 'alice/boto/big-copy.bin', big + '.boto', Config=transfer)
assert open(big, 'rb').read() == open(big + '.boto', 'rb').read(), 'the copy differs'
for i in range(3):
    s3.put_object(Bucket='tvm-files', Key=f'alice/boto/page/{i}', Body=b'x')
pages = list(s3.get_paginator('list_objects_v2').paginate(Bucket='tvm-files', Prefix='alice/boto/page/', PaginationConfig={'PageSize': 1}))
assert [o['Key'] for p in pages for o in p.get('Contents', [])] == [f'alice/boto/page/{i}' for i in range(3)], pages
assert len(pages) >= 3, len(pages)
put_url = s3.generate_presigned_url('put_object', Params={'Bucket': 'tvm-files', 'Key': 'alice/boto/presigned.txt'}, ExpiresIn=300)
assert urllib.request.urlopen(urllib.request.Request(put_url, data=b'presigned body', method='PUT')).status == 200
get_url = s3.generate_presigned_url('get_object', Params={'Bucket': 'tvm-files', 'Key': 'alice/boto/presigned.txt'}, ExpiresIn=300)
assert urllib.request.urlopen(get_url).read() == b'presigned body'
print('ok')
`,
    );
    expectOk(result);
    expect(result.out.trim()).toBe('ok');
  }, 90_000);

  test('rclone (provider = Other): copy and sync a folder, copyto up and down in parts, a server-side copyto', async () => {
    const remote = `sb:${sandbox.bucket}/alice/rclone`;
    expectOk(await rclone('alice', 'copy', join(work, 'tree'), `${remote}/copied`));
    expectOk(await rclone('alice', 'sync', join(work, 'tree'), `${remote}/synced`));
    expectOk(await rclone('alice', 'copyto', bigFile, `${remote}/big.bin`));
    expectOk(await rclone('alice', 'copyto', `${remote}/big.bin`, `${remote}/big-copy.bin`));
    expectOk(await rclone('alice', 'copyto', `${remote}/big-copy.bin`, join(work, 'rclone-down.bin')));
    expect(same(bigFile, join(work, 'rclone-down.bin'))).toBe(true);
    expectOk(await rclone('alice', 'sync', `${remote}/synced`, join(work, 'rclone-tree')));
    expect(readFileSync(join(work, 'rclone-tree', 'sub', 'three.txt'), 'utf8')).toBe('sub/three.txt\n');
    const listed = await rclone('alice', 'lsf', '-R', '--files-only', remote);
    expectOk(listed);
    expect(listed.out.trim().split('\n').sort()).toEqual([
      'big-copy.bin',
      'big.bin',
      'copied/one.txt',
      'copied/sub/three.txt',
      'copied/two.txt',
      'synced/one.txt',
      'synced/sub/three.txt',
      'synced/two.txt',
    ]);
  }, 90_000);

  test('s3cmd: put, get, ls, cp, mv, sync and del', async () => {
    const base = `s3://${sandbox.bucket}/alice/s3cmd`;
    expectOk(await s3cmd('alice', 'put', join(work, 'small.txt'), `${base}/small.txt`));
    expectOk(await s3cmd('alice', 'get', '--force', `${base}/small.txt`, join(work, 's3cmd-down.txt')));
    expect(readFileSync(join(work, 's3cmd-down.txt'), 'utf8')).toBe('small file\n');
    expectOk(await s3cmd('alice', 'cp', `${base}/small.txt`, `${base}/copy.txt`));
    expectOk(await s3cmd('alice', 'mv', `${base}/copy.txt`, `${base}/moved.txt`));
    expectOk(await s3cmd('alice', 'sync', `${join(work, 'tree')}/`, `${base}/tree/`));
    expectOk(await s3cmd('alice', 'del', `${base}/small.txt`));
    const listed = await s3cmd('alice', 'ls', '--recursive', `${base}/`);
    expectOk(listed);
    expect(
      listed.out
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).pop())
        .sort(),
    ).toEqual(['moved.txt', 'tree/one.txt', 'tree/sub/three.txt', 'tree/two.txt'].map((name) => `${base}/${name}`));
  }, 90_000);
});

describe.each(PAIRS)("$attacker in $victim's folder", ({ attacker, victim }) => {
  const secret = `s3://tvm-files/${victim}/secret.txt`;

  let victimBefore: string[];
  beforeEach(async () => {
    victimBefore = await folder(victim);
  });
  /** Whatever was tried, the victim's folder holds exactly what it held, its secret included. */
  const expectVictimUntouched = async () => {
    const after = await folder(victim);
    expect(after).toEqual(victimBefore);
    expect(after.some((entry) => entry.startsWith(`${victim}/secret.txt `))).toBe(true);
  };

  test('the AWS CLI is refused list, get, put, copy-from, delete and multi-delete', async () => {
    await expectEachRefused([
      aws(attacker, 's3', 'ls', `s3://tvm-files/${victim}/`),
      aws(attacker, 's3', 'cp', secret, '-'),
      aws(attacker, 's3', 'cp', join(work, 'small.txt'), `s3://tvm-files/${victim}/planted.txt`),
      aws(attacker, 's3', 'cp', secret, `s3://tvm-files/${attacker}/stolen.txt`),
      aws(attacker, 's3', 'rm', secret),
      aws(
        attacker,
        's3api',
        'delete-objects',
        '--bucket',
        'tvm-files',
        '--delete',
        JSON.stringify({ Objects: [{ Key: `${victim}/secret.txt` }] }),
      ),
    ]);
    await expectVictimUntouched();
  }, 90_000);

  test('boto3 is refused list, get, put, copy-from, delete and multi-delete', async () => {
    const result = await boto3(
      attacker,
      `${BOTO3_PRELUDE}
from botocore.exceptions import ClientError
victim, attacker = ${JSON.stringify(victim)}, ${JSON.stringify(attacker)}
attempts = {
  'list': lambda: s3.list_objects_v2(Bucket='tvm-files', Prefix=victim + '/'),
  'get': lambda: s3.get_object(Bucket='tvm-files', Key=victim + '/secret.txt'),
  'put': lambda: s3.put_object(Bucket='tvm-files', Key=victim + '/planted.txt', Body=b'x'),
  'copy-from': lambda: s3.copy_object(Bucket='tvm-files', Key=attacker + '/stolen.txt', CopySource={'Bucket': 'tvm-files', 'Key': victim + '/secret.txt'}),
  'delete': lambda: s3.delete_object(Bucket='tvm-files', Key=victim + '/secret.txt'),
  'multi-delete': lambda: s3.delete_objects(Bucket='tvm-files', Delete={'Objects': [{'Key': victim + '/secret.txt'}]}),
}
for name, attempt in attempts.items():
    try:
        attempt()
        print(name, 'ALLOWED')
    except ClientError as error:
        print(name, error.response['Error']['Code'])
`,
    );
    expectOk(result);
    expect(result.out.trim().split('\n')).toEqual(
      ['list', 'get', 'put', 'copy-from', 'delete', 'multi-delete'].map((name) => `${name} AccessDenied`),
    );
    await expectVictimUntouched();
  }, 90_000);

  test('rclone is refused list, get, put, copy-from, delete and multi-delete', async () => {
    const remote = `sb:tvm-files/${victim}`;
    await expectEachRefused(
      [
        rclone(attacker, 'lsf', remote),
        rclone(attacker, 'cat', `${remote}/secret.txt`),
        rclone(attacker, 'copyto', join(work, 'small.txt'), `${remote}/planted.txt`),
        rclone(attacker, 'copyto', `${remote}/secret.txt`, `sb:tvm-files/${attacker}/stolen.txt`),
        rclone(attacker, 'deletefile', `${remote}/secret.txt`),
        rclone(attacker, 'delete', '--include', 'secret.txt', remote),
      ],
      // rclone checks the object with a HEAD first; its 403 (as on AWS) reads to rclone as "doesn't exist", and no DELETE follows.
      { delete: /doesn't exist/ },
    );
    await expectVictimUntouched();
  }, 90_000);

  test('s3cmd is refused list, get, put, copy-from, delete and multi-delete', async () => {
    await expectEachRefused([
      s3cmd(attacker, 'ls', `s3://tvm-files/${victim}/`),
      s3cmd(attacker, 'get', '--force', secret, join(work, `s3cmd-stolen-${attacker}.txt`)),
      s3cmd(attacker, 'put', join(work, 'small.txt'), `s3://tvm-files/${victim}/planted.txt`),
      s3cmd(attacker, 'cp', secret, `s3://tvm-files/${attacker}/stolen.txt`),
      s3cmd(attacker, 'del', secret),
      // A recursive del deletes with DeleteObjects, after listing: both refused.
      s3cmd(attacker, 'del', '--recursive', '--force', `s3://tvm-files/${victim}/`),
    ]);
    await expectVictimUntouched();
  }, 90_000);
});
