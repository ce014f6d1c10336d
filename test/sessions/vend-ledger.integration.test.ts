/**
 * /token's vend counts on DynamoDB (dynalite): the session's conditional update that counts a
 * vend and stands in for the session read, the user's minute counter, and the tidying of old
 * counters off a session.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoStores, type DynamoStores } from '../../lambda/adapters/dynamo/stores';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { documentClient } from '../../lambda/adapters/dynamo/helpers';
import type { SessionRecord } from '../../lambda/sessions/ports';
import type { UserRecord } from '../../lambda/accounts/ports';
import { parseUsername } from '../../lambda/accounts/username';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-vend-ledger';
const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);
const MINUTE = 60_000;
const WINDOW = NOW / MINUTE;
const IDLE_SINCE = NOW - 14 * 86_400_000;
let dynamo: TestDynamoDb;
let store: DynamoStores;
let serial = 0;

const user = (name: string): UserRecord => ({
  username: parseUsername(name),
  userId: `id-${name}`,
  passwordHash: 'tvm2$not-a-real-hash',
  createdAt: NOW,
  disabled: false,
  sessionGeneration: 0,
});
const session = (name: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  tokenHash: `hash-${name}`,
  sessionId: `sid-${name}`,
  username: parseUsername(name),
  userId: `id-${name}`,
  generation: 0,
  createdAt: NOW - MINUTE,
  expiresAt: NOW + 86_400_000,
  ...overrides,
});
const fresh = (prefix: string) => `${prefix}-${++serial}`;
const rawSession = async (name: string) =>
  (await documentClient(dynamo.client).send(new GetCommand({ TableName: TABLE, Key: KEYS.session(`hash-${name}`) })))
    .Item;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  store = dynamoStores(dynamo.client, TABLE);
});

afterAll(() => dynamo.stop());

describe('the vend ledger on DynamoDB', () => {
  it("counts a live session's vends per minute, records its use and answers the session, its user and the user's count", async () => {
    const name = fresh('live');
    const username = parseUsername(name);
    await store.users.createUser(user(name));
    await store.sessions.putSession(session(name));
    for (const expected of [1, 2, 3]) {
      const start = await store.sessionWithUser.startVend(`hash-${name}`, username, WINDOW, NOW + expected, IDLE_SINCE);
      expect(start.sessionVends).toBe(expected);
      expect(start.session).toEqual({ ...session(name), lastUsedAt: NOW + expected });
      expect(start.user?.username).toBe(name);
      expect(start.userVends).toBe(expected - 1);
      expect(await store.sessionWithUser.countUserVend(username, WINDOW, NOW + MINUTE, 30)).toBe(true);
    }
    // The next minute starts again at one, and the previous minute's counter is removed.
    const next = await store.sessionWithUser.startVend(`hash-${name}`, username, WINDOW + 1, NOW + MINUTE, IDLE_SINCE);
    expect([next.sessionVends, next.userVends]).toEqual([1, 0]);
    expect(Object.keys((await rawSession(name)) ?? {}).filter((key) => key.startsWith('vends#'))).toEqual([
      `vends#${WINDOW + 1}`,
    ]);
  });

  it("the user's minute counter refuses once it holds the limit", async () => {
    const username = parseUsername(fresh('user'));
    expect(await store.sessionWithUser.countUserVend(username, WINDOW, NOW + MINUTE, 2)).toBe(true);
    expect(await store.sessionWithUser.countUserVend(username, WINDOW, NOW + MINUTE, 2)).toBe(true);
    expect(await store.sessionWithUser.countUserVend(username, WINDOW, NOW + MINUTE, 2)).toBe(false);
    expect(await store.sessionWithUser.countUserVend(username, WINDOW + 1, NOW + 2 * MINUTE, 2)).toBe(true);
  });

  it('a missing, expired or idle session is neither counted nor revived: no session, and its item unchanged', async () => {
    const expired = fresh('expired');
    await store.sessions.putSession(session(expired, { expiresAt: NOW }));
    const idle = fresh('idle');
    await store.sessions.putSession(session(idle, { createdAt: IDLE_SINCE - 1, lastUsedAt: IDLE_SINCE }));
    for (const name of [expired, idle, fresh('missing')]) {
      const before = await rawSession(name);
      const start = await store.sessionWithUser.startVend(`hash-${name}`, parseUsername(name), WINDOW, NOW, IDLE_SINCE);
      expect([start.session, start.sessionVends]).toEqual([undefined, 0]);
      expect(await rawSession(name)).toEqual(before);
    }
  });

  it('once four counters of minutes long gone have piled up on a session, one write alongside stage two removes them', async () => {
    const name = fresh('tidy');
    const username = parseUsername(name);
    await store.sessions.putSession(session(name));
    // Used once every ten minutes: each use leaves the last counter behind.
    let start;
    for (let use = 0; use < 5; use++)
      start = await store.sessionWithUser.startVend(`hash-${name}`, username, WINDOW + 10 * use, NOW, IDLE_SINCE);
    const counters = async () =>
      Object.keys((await rawSession(name)) ?? {}).filter((key) => key.startsWith('vends#')).length;
    expect(await counters()).toBe(5);
    expect(start?.tidy).toBeDefined();
    await start?.tidy?.();
    expect(await counters()).toBe(1);
    expect((await store.sessions.getSession(`hash-${name}`))?.sessionId).toBe(`sid-${name}`);
  });
});
