/**
 * `tvm-admin identities list|remove` and the operator's deletion, on dynalite through the real
 * adapters and the CLI's own wiring (accountStores): the list shows ids, providers and issuers
 * but never a subject; --dry-run changes nothing; another user's link id is refused and stays;
 * removal unlinks (canonical record and pointer) and is audited as the operator's act; the
 * deletion of an account removes every link of it, so the identity is unknown again and a
 * later account under the freed name is not reachable with it.
 */
import { runCli } from '../../admin/cli';
import type { AdminTarget } from '../../admin/target';
import { accountStores } from '../../lambda/adapters/account-deletion-wiring';
import { DynamoIdentityStore } from '../../lambda/adapters/dynamo/identity-store';
import { identityId } from '../../lambda/identities/identity-id';
import type { IdentityLink } from '../../lambda/identities/ports';
import { AccountAdmin } from '../../lambda/operator/account-admin';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import type { TvmConfig } from '../../lambda/platform/config';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { MemoryLog, testConfig } from '../support/in-memory';

const TABLE = 'tvm-identities-cli';
const GOOGLE = 'https://accounts.google.com';
const OKTA = 'https://example.okta.com/oauth2/default';
let dynamo: TestDynamoDb;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
});

afterAll(async () => {
  await dynamo.stop();
});

/** A target on dynalite: the identities commands use only the table. */
function target(): AdminTarget {
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by these commands')) });
  return {
    description: `dynalite table ${TABLE}`,
    apiUrl: 'http://127.0.0.1:1',
    tableName: TABLE,
    bucketName: 'unused',
    region: 'eu-west-1',
    partition: 'aws',
    vendingRoleName: 'unused',
    maxCredentialSeconds: 3600,
    vendingRolePolicy: { Version: '2012-10-17', Statement: [] } as never,
    cutOffMarginMs: 1000,
    propagationMs: 0,
    clockSkewMs: 0,
    dynamo: dynamo.client,
    s3: unused as never,
    iam: unused as never,
    close: () => undefined,
  };
}

async function admin(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(
    args,
    { out: (text) => (out += `${text}\n`), err: (text) => (err += `${text}\n`) },
    async () => target(),
  );
  return {
    code,
    out,
    errors: err.split('\n').filter((line) => line !== '' && !line.startsWith('tvm-admin: acting on ')),
  };
}

const stores = () => accountStores(dynamo.client, TABLE, new MemoryLog(), testConfig() as TvmConfig);
const identities = () => new DynamoIdentityStore(dynamo.client, TABLE);

let counter = 0;
/** A fresh user (a unique name per test) with a registration id, written through the real store. */
async function user(prefix: string): Promise<{ name: Username; userId: string }> {
  const name = parseUsername(`${prefix}-${++counter}-${Date.now() % 100000}`);
  const userId = `${name}-registration`;
  await stores().users.createUser({
    username: name,
    userId,
    passwordHash: 'fake$s$x',
    createdAt: Date.now(),
    disabled: false,
    sessionGeneration: 0,
  } as never);
  return { name, userId };
}

async function link(owner: { name: Username; userId: string }, issuer: string, subject: string, provider: string) {
  const created: IdentityLink = {
    id: identityId(issuer, subject),
    issuer,
    subject,
    provider,
    username: owner.name,
    userId: owner.userId,
    linkedAt: Date.now(),
  };
  expect(await identities().create(created)).toBe(true);
  return created;
}

describe('tvm-admin identities', () => {
  it('lists alice’s identities with id, provider, issuer and time, never the subject, as a table and as JSON', async () => {
    const alice = await user('alice');
    const google = await link(alice, GOOGLE, 'alice-google-subject', 'google');
    const okta = await link(alice, OKTA, 'alice-okta-subject', 'okta');
    const listed = await admin('identities', 'list', alice.name);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ID +PROVIDER +ISSUER +LINKED\n/);
    expect(listed.out).toContain(google.id);
    expect(listed.out).toContain(okta.id);
    expect(listed.out).not.toContain('subject');
    const json = await admin('--json', 'identities', 'list', alice.name);
    expect(JSON.parse(json.out)).toEqual([
      { id: google.id, provider: 'google', issuer: GOOGLE, linkedAt: new Date(google.linkedAt).toISOString() },
      { id: okta.id, provider: 'okta', issuer: OKTA, linkedAt: new Date(okta.linkedAt).toISOString() },
    ]);
  });

  it('--dry-run says what it would unlink and changes nothing; another user’s id is refused and stays; then it unlinks, audited', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const google = await link(alice, GOOGLE, `g-${alice.name}`, 'google');
    const bobs = await link(bob, GOOGLE, `g-${bob.name}`, 'google');

    const plan = await admin('--dry-run', 'identities', 'remove', alice.name, google.id);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain(`1. unlink the identity ${google.id} (google, ${GOOGLE}) from ${alice.name}`);
    expect(await identities().get(GOOGLE, `g-${alice.name}`)).toEqual(google);

    const foreign = await admin('identities', 'remove', alice.name, bobs.id);
    expect(foreign.code).toBe(1);
    expect(foreign.errors).toEqual([
      `tvm-admin: ${alice.name} has no linked identity ${bobs.id}; see identities list ${alice.name}.`,
    ]);
    expect(await identities().get(GOOGLE, `g-${bob.name}`)).toEqual(bobs);

    const removed = await admin('identities', 'remove', alice.name, google.id);
    expect(removed.code).toBe(0);
    expect(removed.out).toContain(`identity ${google.id} (google) unlinked`);
    expect(await identities().get(GOOGLE, `g-${alice.name}`)).toBeUndefined();
    expect(await identities().listByUser(alice.name, alice.userId)).toEqual([]);

    const audit = await admin('audit', alice.name);
    expect(audit.out).toContain(
      `identity_unlinked  operator   tvm-admin   {"provider":"google","identity":"${google.id}"}`,
    );
  });

  it('an id that starts with "-" (base64url) is taken as the id, with or without "--" before it', async () => {
    const alice = await user('alice');
    let subject = 0;
    while (!identityId(GOOGLE, `dash-${alice.name}-${subject}`).startsWith('-')) subject += 1;
    const dashed = await link(alice, GOOGLE, `dash-${alice.name}-${subject}`, 'google');
    const other = await link(alice, OKTA, `other-${alice.name}`, 'okta');
    const plan = await admin('--dry-run', 'identities', 'remove', alice.name, dashed.id, '--json');
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.out)).toMatchObject({
      dryRun: true,
      command: `identities remove ${alice.name} ${dashed.id}`,
    });
    expect((await admin('identities', 'remove', alice.name, dashed.id)).code).toBe(0);
    expect((await admin('identities', 'remove', alice.name, '--', other.id)).code).toBe(0);
    expect(await identities().listByUser(alice.name, alice.userId)).toEqual([]);
  });

  it('without a link id it says what is missing; an unknown user is an error', async () => {
    const alice = await user('alice');
    expect((await admin('identities', 'remove', alice.name)).errors).toEqual([
      'tvm-admin: Missing <id>. Run tvm-admin --help.',
    ]);
    expect((await admin('identities', 'list', 'nobody-here')).code).toBe(1);
  });
});

describe("the operator's deletion on the table", () => {
  it('removes every link of the account (canonical records and pointers); bob keeps his', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await link(alice, GOOGLE, `g-${alice.name}`, 'google');
    await link(alice, OKTA, `o-${alice.name}`, 'okta');
    const bobs = await link(bob, GOOGLE, `g-${bob.name}`, 'google');
    const operator = new AccountAdmin(stores());
    await operator.disable(alice.name);
    await operator.deleteUser(alice.name, Date.now() + 1000);

    expect(await identities().get(GOOGLE, `g-${alice.name}`)).toBeUndefined();
    expect(await identities().get(OKTA, `o-${alice.name}`)).toBeUndefined();
    expect(await identities().listByUser(alice.name, alice.userId)).toEqual([]);
    expect(await identities().get(GOOGLE, `g-${bob.name}`)).toEqual(bobs);
    const [deleted] = await operator.audit(alice.name, 1);
    expect(deleted).toMatchObject({ type: 'deleted', details: { identitiesUnlinked: 2 } });
  });
});
