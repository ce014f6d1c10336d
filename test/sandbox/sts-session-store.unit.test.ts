import { SessionStore, type StsSession } from '../../local/sts/session-store';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function session(accessKeyId: string, issuedAt: number): StsSession {
  return {
    accessKeyId,
    secretAccessKey: 'secret',
    sessionToken: 'token',
    issuedAt,
    expiresAt: issuedAt + HOUR,
    roleArn: 'arn:aws:iam::000000000000:role/tvm-vending',
    roleSessionName: 'alice',
    assumedRoleArn: 'arn:aws:sts::000000000000:assumed-role/tvm-vending/alice',
    assumedRoleId: 'AROA:alice',
    tags: { username: 'alice' },
  };
}

describe('the sandbox STS session store', () => {
  it('forgets sessions expired over a day ago, and keeps recently expired ones for ExpiredToken answers', () => {
    const store = new SessionStore(undefined);
    const now = Date.UTC(2026, 10, 26);
    store.add(session('ASIAOLD', now - 2 * DAY));
    store.add(session('ASIARECENT', now - 2 * HOUR));
    store.add(session('ASIALIVE', now));
    store.forgetLongExpired(now);
    expect(store.get('ASIAOLD')).toBeUndefined();
    expect(store.get('ASIARECENT')).toBeDefined();
    expect(store.get('ASIALIVE')).toBeDefined();
  });

  it('sweeps by itself every 1,000 sessions, so a long-running sandbox does not grow without bound', () => {
    const store = new SessionStore(undefined);
    const start = Date.UTC(2026, 10, 1);
    for (let i = 0; i < 1000; i++) store.add(session(`ASIAA${i}`, start));
    for (let i = 0; i < 1000; i++) store.add(session(`ASIAB${i}`, start + 3 * DAY));
    expect(store.size).toBe(1000);
  });
});
