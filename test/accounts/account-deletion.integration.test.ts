/**
 * Self-service deletion's request and worker steps against dynalite: the user record, the
 * sessions and the deletion queue in the real table through the real adapters (the cut-off
 * list and the folder are in memory here; revocations-dynalite and folder-purge test theirs).
 */
import { AccountDeletion, type CredentialCutOff, type FolderPurger } from '../../lambda/accounts/account-deletion';
import { AccountAdmin } from '../../lambda/operator/account-admin';
import { DynamoDeletionQueue } from '../../lambda/adapters/deletion-queue';
import { AuthenticationError, UsernameTakenError } from '../../lambda/platform/errors';
import { BcryptPasswordHasher } from '../../lambda/accounts/password-hash';
import { systemClock } from '../../lambda/platform/clock';
import { parseRegisterRequest } from '../../lambda/accounts/requests';
import { AuditRecorder } from '../../lambda/platform/audit';
import { createServices, type ServiceDependencies } from '../../lambda/services';
import { dynamoStores } from '../../lambda/adapters/dynamo/stores';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { thrown } from '../support/async';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';
import { InMemoryCredentialIssuer, MemoryLog, testConfig } from '../support/in-memory';
import { NewPasswordPolicy } from '../../lambda/accounts/password-policy';
import { GzipCommonPasswordList } from '../../lambda/adapters/common-passwords';
import { SharingLifecycle } from '../../lambda/sharing/share-lifecycle';
import { MemoryLinkStore, MemoryShareStore, RecordingShareCutOff } from '../support/memory-share-lifecycle';

const TABLE = 'tvm-account-deletion';
const PASSWORD = 'correct horse battery';
let dynamo: TestDynamoDb;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
});

afterAll(async () => {
  await dynamo.stop();
});

function setup() {
  const store = dynamoStores(dynamo.client, TABLE);
  const deps: ServiceDependencies = {
    config: testConfig({ bcryptCost: 10 }),
    ...store,
    issuer: new InMemoryCredentialIssuer(systemClock),
    hasher: new BcryptPasswordHasher(10),
    passwordPolicy: new NewPasswordPolicy(8, new GzipCommonPasswordList()),
    clock: systemClock,
    log: new MemoryLog(),
  };
  const service = createServices(deps);
  const queue = new DynamoDeletionQueue(dynamo.client, TABLE);
  const cutOffs = new Map<Username, number>();
  const cutOff: CredentialCutOff = {
    serverDate: async () => Math.floor(Date.now() / 1000) * 1000,
    cutOff: async (username, at) => void cutOffs.set(username, at),
  };
  const purged: Username[] = [];
  const folder: FolderPurger = { purge: async (username) => (purged.push(username), 3) };
  // The share and link stores on DynamoDB have their own tests; here they only need to be there.
  const sharing = new SharingLifecycle({
    shares: new MemoryShareStore(),
    links: new MemoryLinkStore(),
    cutOff: new RecordingShareCutOff(),
  });
  const deletion = new AccountDeletion({
    authenticate: (token) => service.sessions.authenticate(token),
    stepUp: (live, proof) =>
      'currentPassword' in proof
        ? service.stepUp.stepUp(live, proof, {}, 'account delete')
        : Promise.reject(new AuthenticationError()),
    users: store.users,
    admin: new AccountAdmin(deps),
    queue,
    cutOff,
    folder,
    sharing,
    auditor: new AuditRecorder(deps),
    clock: systemClock,
    cutOffMarginMs: 1000,
    propagationMs: 0,
    maxCredentialSeconds: 3600,
  });
  return { store, service, queue, deletion, cutOffs, purged };
}

let counter = 0;
const newName = () => parseUsername(`del-${++counter}-${Date.now().toString(36)}`);

describe('self-service deletion on DynamoDB', () => {
  it('commits pending in the table (disabled, sessions revoked, cut-off on the record, request queued), then the worker finishes it and holds the name', async () => {
    const s = setup();
    const name = newName();
    const { session } = await s.service.accounts.register(parseRegisterRequest({ username: name, password: PASSWORD }));
    const pending = await s.deletion.request(session.token, { currentPassword: PASSWORD as never });
    expect(pending.status).toBe('pending');
    const user = await s.store.users.getUser(name);
    expect(user).toMatchObject({ disabled: true, sessionGeneration: 1 });
    expect(user?.cutOffAt).toBeGreaterThan(Date.now());
    expect(await s.queue.get(name)).toMatchObject({ username: name, userId: user!.userId, cutOffAt: user!.cutOffAt });
    expect(await thrown(s.service.sessions.token(session.token))).toBeInstanceOf(AuthenticationError);

    expect(await s.deletion.advance(name)).toMatchObject({ state: 'cut_off' });
    expect(s.cutOffs.get(name)).toBe(user!.cutOffAt);
    expect((await s.queue.get(name))?.cutOffAppliedAt).toEqual(expect.any(Number));
    expect(await s.deletion.advance(name)).toMatchObject({ state: 'deleted', deletedEntries: 3 });
    expect(s.purged).toEqual([name]);
    expect(await s.store.users.getUser(name)).toBeUndefined();
    expect(await s.queue.list()).toEqual([]);
    expect(
      await thrown(s.service.accounts.register(parseRegisterRequest({ username: name, password: PASSWORD }))),
    ).toBeInstanceOf(UsernameTakenError);
  });

  it('a stolen session without the password queues nothing and changes nothing', async () => {
    const s = setup();
    const name = newName();
    const { session } = await s.service.accounts.register(parseRegisterRequest({ username: name, password: PASSWORD }));
    expect(
      await thrown(s.deletion.request(session.token, { currentPassword: 'not the password' as never })),
    ).toBeInstanceOf(AuthenticationError);
    expect(await s.queue.get(name)).toBeUndefined();
    expect(await s.store.users.getUser(name)).toMatchObject({ disabled: false, sessionGeneration: 0 });
  });
});
