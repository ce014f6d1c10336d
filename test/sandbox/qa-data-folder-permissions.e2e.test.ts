/**
 * QA: the data folder holds every password hash (dynamodb/) and every user's files (s3/). A
 * folder left readable by other local users (made by hand, or by an older sandbox) must be
 * tightened on start, as secrets.json is replaced when others could read it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../local/sandbox';

test('a data folder whose dynamodb/ and s3/ folders others can read is made owner-only on start', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tvm-qa-perms-'));
  const dataDir = join(root, 'data');
  for (const folder of [dataDir, join(dataDir, 'dynamodb'), join(dataDir, 's3')]) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, 0o755);
  }
  const sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10 });
  try {
    const others = (path: string) => statSync(path).mode & 0o077;
    expect({ dynamodb: others(join(dataDir, 'dynamodb')), s3: others(join(dataDir, 's3')) }).toEqual({ dynamodb: 0, s3: 0 });
  } finally {
    await sandbox.stop();
    rmSync(root, { recursive: true, force: true });
  }
}, 60_000);
