/**
 * `tvm-admin smoke` against the sandbox: the post-deploy check runs the same code it runs
 * against a deployed stack, passes every step, leaves no user behind, and names the first
 * failed step (with a non-zero exit) when something is wrong.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../admin/cli';
import { accountAdmin } from '../../admin/operations';
import { runSmoke, SMOKE_STEPS } from '../../admin/smoke';
import { localTarget, type AdminTarget } from '../../admin/target';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { freePort } from '../support/e2e';

let sandbox: Sandbox;
let dataDir: string;

async function admin(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['--local', ...args], {
    out: (text) => (out += `${text}\n`),
    err: (text) => (err += `${text}\n`),
  });
  return { code, out, err };
}

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-smoke-e2e-'));
  process.env.TVM_DATA_DIR = dataDir;
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10, log: false });
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  delete process.env.TVM_DATA_DIR;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('tvm-admin --local smoke', () => {
  it('passes every step against the sandbox, reports progress, and leaves no user or file behind', async () => {
    const result = await admin('--json', 'smoke');
    expect(result.err).not.toMatch(/^tvm-admin: (?!acting on )/m);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as { username: string; steps: { step: string }[] };
    expect(report.steps.map((step) => step.step)).toEqual([...SMOKE_STEPS]);
    expect(result.err).toContain(`smoke: ${SMOKE_STEPS[6]}...`);

    const users = await admin('--json', 'users', 'list');
    expect(JSON.parse(users.out)).toEqual([]);
    const usage = await admin('--json', 'usage', '--all');
    expect(JSON.parse(usage.out)).toEqual([]);
  }, 60_000);

  it('exits 1 naming the first step when the API cannot be reached, and creates nothing', async () => {
    const target = localTarget(dataDir);
    const unreachable: AdminTarget = { ...target, apiUrl: `http://127.0.0.1:${await freePort()}` };
    let err = '';
    const code = await runCli(
      ['smoke'],
      { out: () => undefined, err: (text) => (err += `${text}\n`) },
      async () => unreachable,
    );
    expect(code).toBe(1);
    expect(err).toContain(`tvm-admin: smoke test failed at step "${SMOKE_STEPS[0]}"`);
    const check = localTarget(dataDir);
    try {
      expect(await accountAdmin(check, quietLog).listUsers()).toEqual([]);
    } finally {
      check.close();
    }
  });

  it('names step 7 when the cut-off is not observed within the bounded wait, and still removes its user', async () => {
    const target = localTarget(dataDir);
    // An IAM that accepts the cut-off policy but never applies it: the issued credentials keep working.
    const ignoringIam = { send: async () => ({}) } as unknown as AdminTarget['iam'];
    const progress: string[] = [];
    try {
      const failure = runSmoke(
        { ...target, iam: ignoringIam },
        { progress: (line) => progress.push(line), log: quietLog, cutoffTimeoutMs: 600, pollIntervalMs: 200 },
      );
      await expect(failure).rejects.toThrow(
        `smoke test failed at step "${SMOKE_STEPS[6]}": credentials issued before the revocation still read`,
      );
      expect(progress.filter((line) => line.includes('still work after'))).toEqual([
        expect.stringMatching(/still work after \d+ s \(attempt 1\); waiting up to 1 s, checking every 0.2 s/),
      ]);
      expect(progress.some((line) => line.startsWith('smoke: removed the throwaway user'))).toBe(true);
      expect(await accountAdmin(target, quietLog).listUsers()).toEqual([]);
    } finally {
      target.close();
    }
  }, 30_000);
});
