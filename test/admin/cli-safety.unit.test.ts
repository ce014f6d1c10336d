/**
 * tvm-admin's waits and its "no sandbox" answer, without a sandbox: a wait against DynamoDB's
 * clock (a Date header truncated to the second) prints one line with its length, however many
 * times it polls; and a missing sandbox names TVM_DATA_DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RevocationList } from '../../admin/revocations';
import { AdminError, localTarget } from '../../admin/target';
import { bucketArn, renderVendingRolePolicy } from '../../lambda/credentials/policy';

/** A RevocationList on a virtual clock: serverDate answers the time truncated to the second, sleep advances it. */
function onVirtualClock(startMs: number) {
  let now = startMs;
  const progress: string[] = [];
  const sleeps: number[] = [];
  const list = new RevocationList({
    store: { serverDate: async () => Math.floor(now / 1000) * 1000 } as never,
    iam: { send: async () => ({}) } as never,
    vendingRoleName: 'vending',
    vendingRolePolicy: renderVendingRolePolicy(bucketArn('bucket')),
    maxCredentialSeconds: 3600,
    cutOffMarginMs: 11_000,
    sleep: async (ms) => {
      sleeps.push(ms);
      // Each poll also costs a round trip.
      now += ms + 12;
    },
    progress: (message) => progress.push(message),
  });
  return { list, progress, sleeps, now: () => now };
}

describe('RevocationList.waitUntil', () => {
  it('prints one line with the wait in seconds and returns once the truncated clock reaches a whole-second instant', async () => {
    const clock = onVirtualClock(Date.UTC(2026, 11, 7, 14, 0, 0, 400));
    const instant = Date.UTC(2026, 11, 7, 14, 0, 3);
    await clock.list.waitUntil(instant, 'for the cut-off instant to pass');
    expect(clock.progress).toEqual(['waiting 3 s for the cut-off instant to pass...']);
    expect(clock.now()).toBeGreaterThanOrEqual(instant);
    // No spinning in 1 ms steps while the header still shows the instant's own second.
    expect(clock.sleeps.every((ms) => ms >= 1000)).toBe(true);
  });

  it('does not wait, or print, when the instant has come', async () => {
    const clock = onVirtualClock(Date.UTC(2026, 11, 7, 14, 0, 3, 900));
    await clock.list.waitUntil(Date.UTC(2026, 11, 7, 14, 0, 3), 'for the cut-off instant to pass');
    expect({ progress: clock.progress, sleeps: clock.sleeps }).toEqual({ progress: [], sleeps: [] });
  });

  it('prints one line for any instant and start within a minute (fractional instants included)', async () => {
    for (let offset = 0; offset < 60_000; offset += 737) {
      const clock = onVirtualClock(Date.UTC(2026, 11, 7, 14) + (offset % 1000));
      const instant = Date.UTC(2026, 11, 7, 14) + offset;
      await clock.list.waitUntil(instant, 'for it');
      expect(clock.progress.length).toBeLessThanOrEqual(1);
      expect(clock.now()).toBeGreaterThanOrEqual(instant);
    }
  });
});

test('without a sandbox, --local says which folder it looked in and names TVM_DATA_DIR', () => {
  const folder = mkdtempSync(join(tmpdir(), 'tvm-no-sandbox-'));
  try {
    expect(() => localTarget(folder)).toThrow(AdminError);
    expect(() => localTarget(folder)).toThrow(
      `No sandbox is running with data in ${folder} (TVM_DATA_DIR, default .tvm-local)`,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
