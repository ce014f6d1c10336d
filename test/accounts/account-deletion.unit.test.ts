/**
 * Self-service deletion's domain logic on in-memory fakes (no mocks): the request commits
 * "deletion pending" at once behind a real step-up, and the worker finishes the operator's
 * lifecycle (cut-off on the role, the propagation wait, every file, the records, the name
 * hold), each step idempotent.
 */
import { AccountAdmin } from '../../lambda/operator/account-admin';
import {
  AccountDeletion,
  type CredentialCutOff,
  type DeletionQueue,
  type DeletionRequest,
  type FolderPurger,
} from '../../lambda/accounts/account-deletion';
import { AuthenticationError, CutOffPendingError, UsernameTakenError } from '../../lambda/platform/errors';
import { createServices } from '../../lambda/services';
import { parseLoginRequest, parseRegisterRequest } from '../../lambda/accounts/requests';
import { nameHeldUntil } from '../../lambda/credentials/revocation';
import { AuditRecorder } from '../../lambda/platform/audit';
import { parseUsername, type Username } from '../../lambda/accounts/username';
import { thrown } from '../support/async';
import { inMemoryBackend, loginSession } from '../support/in-memory';
import { InMemoryMfaStore } from '../support/in-memory-mfa';
import { MemoryLinkStore, MemoryShareStore, RecordingShareCutOff } from '../support/memory-share-lifecycle';
import { SharingLifecycle } from '../../lambda/sharing/share-lifecycle';
import { InMemoryIdentityStore } from '../support/in-memory-identities';
import { plantLink } from '../support/identity-links';

const PASSWORD = 'correct horse battery';
const PROPAGATION_MS = 5 * 60_000;
const MARGIN_MS = 20_000;

class MemoryQueue implements DeletionQueue {
  readonly items = new Map<Username, DeletionRequest>();
  async put(request: DeletionRequest) {
    this.items.set(request.username, { ...request });
  }
  async get(username: Username) {
    return this.items.get(username);
  }
  async list() {
    return [...this.items.values()];
  }
  async remove(username: Username) {
    this.items.delete(username);
  }
}

/** The role's cut-off list as a map, on the backend's clock (to the second, as DynamoDB's Date header). */
class MemoryCutOff implements CredentialCutOff {
  readonly entries = new Map<Username, number>();
  failNext = false;
  constructor(private readonly now: () => number) {}
  async serverDate() {
    return Math.floor(this.now() / 1000) * 1000;
  }
  async cutOff(username: Username, cutOffAt: number) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('IAM throttled');
    }
    this.entries.set(username, Math.max(cutOffAt, this.entries.get(username) ?? 0));
  }
}

class MemoryFolders implements FolderPurger {
  readonly files = new Map<Username, string[]>();
  async purge(username: Username) {
    const count = this.files.get(username)?.length ?? 0;
    this.files.delete(username);
    return count;
  }
}

function setup() {
  const backend = inMemoryBackend();
  const store = new InMemoryMfaStore();
  const service = createServices({
    ...backend,
    factors: store,
    challenges: store,
    sleep: async (ms) => backend.clock.advance(ms),
  });
  const queue = new MemoryQueue();
  const cutOff = new MemoryCutOff(() => backend.clock.now());
  const folders = new MemoryFolders();
  const shareStore = new MemoryShareStore();
  const linkStore = new MemoryLinkStore();
  const shareCutOff = new RecordingShareCutOff(() => [...shareStore.shares.keys()]);
  const sharing = new SharingLifecycle({ shares: shareStore, links: linkStore, cutOff: shareCutOff });
  const identities = new InMemoryIdentityStore();
  const deletion = new AccountDeletion({
    authenticate: (token) => service.sessions.authenticate(token),
    stepUp: (live, proof, origin, purpose) => service.stepUp.stepUp(live, proof, origin, purpose),
    users: backend.users,
    admin: new AccountAdmin({ ...backend, identities }),
    queue,
    cutOff,
    folder: folders,
    sharing,
    auditor: new AuditRecorder(backend),
    clock: backend.clock,
    cutOffMarginMs: MARGIN_MS,
    propagationMs: PROPAGATION_MS,
    maxCredentialSeconds: 3600,
  });
  return { backend, service, deletion, queue, cutOff, folders, shareStore, linkStore, shareCutOff, identities };
}

type Setup = ReturnType<typeof setup>;
const alice = parseUsername('alice');

async function aliceWithFiles(s: Setup) {
  const registered = await s.service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }));
  s.folders.files.set(alice, ['alice/a.txt', 'alice/b.txt (old version)']);
  return registered.session.token;
}

describe('AccountDeletion.request (DELETE /account)', () => {
  it('after the password, refuses logins and every session at once and stores the cut-off on the record; answers pending', async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    const other = (await loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD }))).session
      .token;
    const pending = await s.deletion.request(token, { currentPassword: PASSWORD as never });
    expect(pending.status).toBe('pending');
    const user = await s.backend.users.getUser(alice);
    expect(user).toMatchObject({ disabled: true, sessionGeneration: 1 });
    expect(user!.cutOffAt).toBeGreaterThan(s.backend.clock.now() + MARGIN_MS);
    expect(Date.parse(pending.completesAfter)).toBe(user!.cutOffAt! + PROPAGATION_MS);
    for (const session of [token, other])
      expect(await thrown(s.service.sessions.token(session))).toBeInstanceOf(AuthenticationError);
    expect(
      await thrown(loginSession(s.service, parseLoginRequest({ username: 'alice', password: PASSWORD }))),
    ).toBeInstanceOf(AuthenticationError);
    expect(s.queue.items.get(alice)).toMatchObject({ cutOffAt: user!.cutOffAt, userId: user!.userId });
    expect((await s.backend.audit.list(alice, 10)).map((event) => event.type)).toContain('deletion_requested');
  });

  it('a thief with a stolen session but without the password deletes nothing', async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    expect(await thrown(s.deletion.request(token, { currentPassword: 'not the password' as never }))).toBeInstanceOf(
      AuthenticationError,
    );
    expect(s.queue.items.size).toBe(0);
    expect(await s.backend.users.getUser(alice)).toMatchObject({ disabled: false, sessionGeneration: 0 });
    expect((await s.service.sessions.token(token)).credentials).toBeDefined();
  });

  it('without a session it is a 401 before any step-up', async () => {
    const s = setup();
    await aliceWithFiles(s);
    expect(await thrown(s.deletion.request(undefined, { currentPassword: PASSWORD as never }))).toBeInstanceOf(
      AuthenticationError,
    );
    expect(s.queue.items.size).toBe(0);
  });
});

describe('AccountDeletion.advance (the worker)', () => {
  it('cuts off, waits for IAM, then deletes every file and the records, and holds the name until every credential has expired', async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    await s.deletion.request(token, { currentPassword: PASSWORD as never });
    const cutOffAt = (await s.backend.users.getUser(alice))!.cutOffAt!;

    const first = await s.deletion.advance(alice);
    expect(first).toEqual({ state: 'cut_off', purgeAfter: s.backend.clock.now() + PROPAGATION_MS });
    expect(s.cutOff.entries.get(alice)).toBe(cutOffAt);
    expect(s.folders.files.has(alice)).toBe(true);

    s.backend.clock.advance(PROPAGATION_MS - 1);
    expect(await s.deletion.advance(alice)).toMatchObject({ state: 'waiting' });
    expect(s.folders.files.has(alice)).toBe(true);

    s.backend.clock.advance(1);
    const done = await s.deletion.advance(alice);
    expect(done).toEqual({ state: 'deleted', deletedEntries: 2, heldUntil: nameHeldUntil(cutOffAt, 3600) });
    expect(s.folders.files.has(alice)).toBe(false);
    expect(await s.backend.users.getUser(alice)).toBeUndefined();
    expect(s.queue.items.size).toBe(0);
    // The trail says the user's own request finished it, not an operator's command.
    const finished = (await s.backend.audit.list(alice, 10)).filter(
      (event) => event.type === 'credentials_revoked' || event.type === 'deleted',
    );
    expect(finished.map((event) => [event.type, event.sourceIp, event.userAgent]).sort()).toEqual([
      ['credentials_revoked', 'deletion worker', 'self-service deletion'],
      ['deleted', 'deletion worker', 'self-service deletion'],
    ]);
    expect(
      await thrown(s.service.accounts.register(parseRegisterRequest({ username: 'alice', password: PASSWORD }))),
    ).toBeInstanceOf(UsernameTakenError);
    // Run again (a retried worker): nothing left to do.
    expect(await s.deletion.advance(alice)).toBeUndefined();
  });

  it("removes alice's identity links with her records, so the identity is unknown again; bob's link stays", async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    const aliceId = (await s.backend.users.getUser(alice))!.userId;
    const bob = parseUsername('bob');
    await plantLink(s.identities, alice, aliceId, 'https://accounts.google.com', 'g-alice', 'google');
    const bobs = await plantLink(s.identities, bob, 'bob-1', 'https://accounts.google.com', 'g-bob', 'google');
    await s.deletion.request(token, { currentPassword: PASSWORD as never });
    await s.deletion.advance(alice);
    // Kept through the propagation wait: the account is disabled, which refuses provider sign-in.
    expect(await s.identities.get('https://accounts.google.com', 'g-alice')).toBeDefined();
    s.backend.clock.advance(PROPAGATION_MS);
    expect(await s.deletion.advance(alice)).toMatchObject({ state: 'deleted' });
    expect(await s.identities.get('https://accounts.google.com', 'g-alice')).toBeUndefined();
    expect(await s.identities.listByUser(alice, aliceId)).toEqual([]);
    expect(await s.identities.get('https://accounts.google.com', 'g-bob')).toEqual(bobs);
  });

  it('a worker that fails at the cut-off is completed by the next run, and deletes nothing before it', async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    await s.deletion.request(token, { currentPassword: PASSWORD as never });
    s.cutOff.failNext = true;
    const outcomes = await s.deletion.sweep();
    expect(outcomes[0]?.error).toBeInstanceOf(Error);
    expect(s.folders.files.has(alice)).toBe(true);
    expect((await s.deletion.sweep())[0]?.progress).toMatchObject({ state: 'cut_off' });
    s.backend.clock.advance(PROPAGATION_MS);
    expect((await s.deletion.sweep())[0]?.progress).toMatchObject({ state: 'deleted' });
  });

  it('an operator who enables the account before the purge cancels the deletion: nothing is deleted', async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    await s.deletion.request(token, { currentPassword: PASSWORD as never });
    await new AccountAdmin(s.backend).enable(alice);
    expect(await s.deletion.advance(alice)).toEqual({ state: 'cancelled' });
    expect(s.folders.files.has(alice)).toBe(true);
    expect(await s.backend.users.getUser(alice)).toBeDefined();
  });

  it("cuts off every share alice gave or received with her own cut-off, then removes them and her links before her records; others' shares stay", async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    const bob = parseUsername('bob');
    const carol = parseUsername('carol');
    const given = s.shareStore.add(alice, bob);
    const received = s.shareStore.add(carol, alice);
    const unrelated = s.shareStore.add(bob, carol);
    s.linkStore.add(alice);
    const bobsLink = s.linkStore.add(bob);
    await s.deletion.request(token, { currentPassword: PASSWORD as never });

    expect(await s.deletion.advance(alice)).toMatchObject({ state: 'cut_off' });
    expect(s.shareCutOff.ids.sort()).toEqual([given.id, received.id].sort());
    // Cut off, but kept until the files go: a cancelled deletion loses nothing.
    expect(s.shareStore.shares.size).toBe(3);

    s.backend.clock.advance(PROPAGATION_MS);
    expect(await s.deletion.advance(alice)).toMatchObject({ state: 'deleted' });
    expect([...s.shareStore.shares.keys()]).toEqual([unrelated.id]);
    expect([...s.linkStore.links.keys()]).toEqual([bobsLink.id]);
    // Each removed share was cut off (again) while it still existed.
    expect(s.shareCutOff.presentAtCall.at(-1)).toEqual(expect.arrayContaining([given.id, received.id]));
  });

  it('no login vends for the account while it is pending: it is disabled, and its cut-off lies ahead', async () => {
    const s = setup();
    const token = await aliceWithFiles(s);
    await s.deletion.request(token, { currentPassword: PASSWORD as never });
    const user = (await s.backend.users.getUser(alice))!;
    expect(user.disabled).toBe(true);
    expect(() => s.service.vendor.checkCutOff(user)).toThrow(CutOffPendingError);
  });
});
