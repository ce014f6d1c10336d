/**
 * The share rules on in-memory ports, no mocks: who may create, list, end and use a share, what
 * a refusal leaves behind (nothing), and what the vended credentials carry.
 */
import fc from 'fast-check';
import { parseUsername } from '../../lambda/accounts/username';
import { SHARE_MAX_LIFETIME_DAYS, SHARE_PATH_MAX_BYTES, SHARES_PER_OWNER_MAX } from '../../lambda/contract/limits';
import { SHARE_GROUP_SESSION_TAG, SHARE_SESSION_TAG, shareRevocationGroup } from '../../lambda/credentials/revocation';
import {
  AuthenticationError,
  BackendUnavailableError,
  LimitReachedError,
  NotFoundError,
  ValidationError,
} from '../../lambda/platform/errors';
import { parseExpiresAt } from '../../lambda/sharing/requests';
import { isSharePath, type SharePath } from '../../lambda/sharing/share-path';
import { renderSharePolicy } from '../../lambda/sharing/share-policy';
import { thrown } from '../support/async';
import { inMemorySharing } from '../support/in-memory-sharing';

const DAY = 86_400_000;
const alice = parseUsername('alice');
const bob = parseUsername('bob');

async function setup() {
  const world = inMemorySharing();
  const tokens = {
    alice: await world.register('alice'),
    bob: await world.register('bob'),
    carol: await world.register('carol'),
  };
  return { ...world, tokens };
}

/** Everything a refusal must leave as it was: records, counters, cut-offs and the sharing audit. */
function state(world: Awaited<ReturnType<typeof setup>>) {
  return JSON.stringify({
    shares: world.shares.snapshot(),
    count: world.shares.count(alice),
    cutOffs: world.shareCutOff.cutOffIds,
    audit: world.backend.audit.events.filter((event) => event.type.startsWith('share_')),
  });
}

describe('creating a share', () => {
  it('alice shares photos/ read with bob: the answer has the wire shape and both sides list it', async () => {
    const world = await setup();
    const created = await world.sharing.shares.create(world.tokens.alice, {
      path: 'photos/',
      grantee: 'Bob',
      access: 'read',
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      owner: 'alice',
      path: 'photos/',
      grantee: 'bob',
      access: 'read',
      expiresAt: null,
      createdAt: new Date(world.backend.clock.now()).toISOString(),
    });
    expect(await world.sharing.shares.list(world.tokens.alice)).toEqual({ given: [created], received: [] });
    expect(await world.sharing.shares.list(world.tokens.bob)).toEqual({ given: [], received: [created] });
    expect(await world.sharing.shares.list(world.tokens.carol)).toEqual({ given: [], received: [] });
    expect(world.shares.count(alice)).toBe(1);
    expect(world.backend.audit.types('alice')).toContain('share_created');
  });

  it('keeps an expiry as the instant sent, answered in ISO 8601 UTC', async () => {
    const world = await setup();
    const end = world.backend.clock.now() + 7 * DAY;
    const created = await world.sharing.shares.create(world.tokens.alice, {
      path: 'doc.txt',
      grantee: 'bob',
      access: 'readwrite',
      expiresAt: new Date(end).toISOString().replace('Z', '+00:00'),
    });
    expect(created.expiresAt).toBe(new Date(end).toISOString());
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    ['a grantee that does not exist', { path: 'photos/', grantee: 'nobody', access: 'read' }, 'grantee'],
    ['oneself', { path: 'photos/', grantee: 'alice', access: 'read' }, 'grantee'],
    ['a malformed grantee', { path: 'photos/', grantee: 'no one!', access: 'read' }, 'grantee'],
    ['a path with ..', { path: 'photos/../bob/', grantee: 'bob', access: 'read' }, 'path'],
    ['a path outside the folder (leading /)', { path: '/bob/x', grantee: 'bob', access: 'read' }, 'path'],
    ['a path with *', { path: 'photos/*', grantee: 'bob', access: 'read' }, 'path'],
    ['a path with ?', { path: 'photos/?.jpg', grantee: 'bob', access: 'read' }, 'path'],
    ['a path with $', { path: 'photos/${aws:username}/', grantee: 'bob', access: 'read' }, 'path'],
    ['a path with {', { path: 'photos/{x', grantee: 'bob', access: 'read' }, 'path'],
    ['a path with }', { path: 'photos/x}', grantee: 'bob', access: 'read' }, 'path'],
    ['a path over the limit', { path: `${'a'.repeat(SHARE_PATH_MAX_BYTES)}/`, grantee: 'bob', access: 'read' }, 'path'],
    ['an unknown access', { path: 'photos/', grantee: 'bob', access: 'admin' }, 'access'],
    [
      'an expiry in the past',
      { path: 'photos/', grantee: 'bob', access: 'read', expiresAt: '2020-01-01T00:00:00Z' },
      'expiresAt',
    ],
    [
      'an expiry more than a year ahead',
      { path: 'photos/', grantee: 'bob', access: 'read', expiresAt: '2099-01-01T00:00:00Z' },
      'expiresAt',
    ],
    [
      'an expiry without a zone',
      { path: 'photos/', grantee: 'bob', access: 'read', expiresAt: '2026-06-01T00:00:00' },
      'expiresAt',
    ],
    [
      'an expiry on a day that does not exist',
      { path: 'photos/', grantee: 'bob', access: 'read', expiresAt: '2026-02-30T00:00:00Z' },
      'expiresAt',
    ],
  ];

  it.each(refusals)('refuses %s with a 400 naming the field, and writes nothing', async (_what, body, field) => {
    const world = await setup();
    const before = state(world);
    const error = await thrown(world.sharing.shares.create(world.tokens.alice, body));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(state(world)).toBe(before);
  });

  it('refuses a disabled grantee as one that does not exist', async () => {
    const world = await setup();
    const bobRecord = await world.backend.users.getUser(bob);
    await world.backend.users.updateUser(bob, bobRecord!.userId, { disabled: true });
    const before = state(world);
    const error = await thrown(
      world.sharing.shares.create(world.tokens.alice, { path: '', grantee: 'bob', access: 'read' }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(state(world)).toBe(before);
  });

  it('refuses a caller without a live session (401) and writes nothing', async () => {
    const world = await setup();
    const before = state(world);
    expect(
      await thrown(world.sharing.shares.create(undefined, { path: '', grantee: 'bob', access: 'read' })),
    ).toBeInstanceOf(AuthenticationError);
    expect(state(world)).toBe(before);
  });

  it(`refuses share number ${SHARES_PER_OWNER_MAX + 1} with 409 limit_reached; revoking or an expiry frees a place`, async () => {
    const world = await setup();
    const shares = [];
    for (let i = 0; i < SHARES_PER_OWNER_MAX; i++) {
      shares.push(
        await world.sharing.shares.create(world.tokens.alice, {
          path: `f${i}.txt`,
          grantee: 'bob',
          access: 'read',
          ...(i === 0 ? { expiresAt: new Date(world.backend.clock.now() + DAY).toISOString() } : {}),
        }),
      );
    }
    const before = state(world);
    const error = await thrown(
      world.sharing.shares.create(world.tokens.alice, { path: 'one-more', grantee: 'bob', access: 'read' }),
    );
    expect(error).toBeInstanceOf(LimitReachedError);
    expect(state(world)).toBe(before);
    await world.sharing.revoker.remove(world.tokens.alice, shares[1]!.id);
    await world.sharing.shares.create(world.tokens.alice, { path: 'one-more', grantee: 'bob', access: 'read' });
    // The first share expires: its place is free again, found by the recount.
    world.backend.clock.advance(DAY + 1);
    await world.sharing.shares.create(world.tokens.alice, { path: 'and-another', grantee: 'bob', access: 'read' });
    expect(world.shares.count(alice)).toBe(SHARES_PER_OWNER_MAX);
    expect((await world.sharing.shares.list(world.tokens.alice)).given).toHaveLength(SHARES_PER_OWNER_MAX);
  });

  it('a count left high by a crash is recounted, never trusted into a refusal', async () => {
    const world = await setup();
    await world.shares.recount(alice, 'ignored', SHARES_PER_OWNER_MAX);
    await world.sharing.shares.create(world.tokens.alice, { path: 'x', grantee: 'bob', access: 'read' });
    expect(world.shares.count(alice)).toBe(1);
  });

  it('any path is either refused (nothing written) or stored exactly as sent (property)', async () => {
    const world = await setup();
    const pathArbitrary = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(
          fc.constantFrom('a', 'b/', '../', './', '/', '*', '?', '$', '{', '}', '\\', 'é', '\u0000', '\u200b', '.'),
          {
            maxLength: 12,
          },
        )
        .map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(pathArbitrary, async (path) => {
        const before = state(world);
        const outcome = await world.sharing.shares
          .create(world.tokens.alice, { path, grantee: 'bob', access: 'read' })
          .then(
            (created) => ({ created, error: undefined }),
            (error: unknown) => ({ created: undefined, error }),
          );
        // Accepted exactly when the path is a shared path; a refusal is a 400 that wrote nothing.
        expect(outcome.created !== undefined).toBe(isSharePath(path));
        expect(outcome.error === undefined || outcome.error instanceof ValidationError).toBe(true);
        expect(outcome.created !== undefined || state(world) === before).toBe(true);
        // Kept byte for byte, and never with an IAM wildcard, a policy variable or a dot segment.
        expect(outcome.created?.path ?? path).toBe(path);
        expect(outcome.created === undefined || !/[*?${}]|(^|\/)\.\.?(\/|$)|^\//.test(path)).toBe(true);
        if (outcome.created) await world.sharing.revoker.remove(world.tokens.alice, outcome.created.id);
      }),
      { numRuns: 150 },
    );
  });
});

describe('share credentials', () => {
  async function shared(access: 'read' | 'readwrite' = 'read', path = 'photos/', expiresAt?: string) {
    const world = await setup();
    const share = await world.sharing.shares.create(world.tokens.alice, {
      path,
      grantee: 'bob',
      access,
      ...(expiresAt ? { expiresAt } : {}),
    });
    return { world, share };
  }

  it("bob's credentials: his name, the share's tags, a policy reaching alice/photos/ only, and where the files are", async () => {
    const { world, share } = await shared();
    const result = await world.sharing.shares.credentials(world.tokens.bob, share.id, { sourceIp: '203.0.113.9' });
    expect(result).toEqual({
      credentials: expect.objectContaining({ accessKeyId: expect.any(String) }),
      storage: {
        bucket: 'tvm-test-files',
        prefix: 'alice/photos/',
        region: 'eu-west-1',
        usage: { bytes: 0, objects: 0, quotaBytes: null, overQuota: false },
      },
      access: 'read',
      expiresAt: null,
    });
    const request = world.backend.issuer.requests.at(-1)!;
    expect(request.username).toBe('bob');
    expect(request.extraTags).toEqual({
      [SHARE_SESSION_TAG]: share.id,
      [SHARE_GROUP_SESSION_TAG]: shareRevocationGroup(share.id),
    });
    expect(JSON.parse(request.sessionPolicy)).toEqual(
      renderSharePolicy({
        bucketArn: 'arn:aws:s3:::tvm-test-files',
        owner: alice,
        path: 'photos/' as SharePath,
        access: 'read',
      }),
    );
    const [given] = (await world.sharing.shares.list(world.tokens.alice)).given;
    expect(given).toMatchObject({ lastUsedAt: new Date(world.backend.clock.now()).toISOString(), lastUsedBy: 'bob' });
    expect(world.backend.audit.types('alice')).toContain('share_used');
    expect(world.backend.audit.types('bob')).toContain('share_used');
  });

  it('a share with an end: the policy ends there, and the answer says when', async () => {
    const end = new Date(Date.UTC(2026, 0, 8, 12, 0, 0)).toISOString();
    const { world, share } = await shared('readwrite', 'doc.txt', end);
    const result = await world.sharing.shares.credentials(world.tokens.bob, share.id);
    expect(result.expiresAt).toBe(end);
    expect(result.storage.prefix).toBe('alice/doc.txt');
    expect(world.backend.issuer.requests.at(-1)!.sessionPolicy).toContain('"aws:CurrentTime":"2026-01-08T12:00:00Z"');
  });

  it('carol, alice (the owner) and a malformed id get the same 404 as an unknown share, and nothing is vended', async () => {
    const { world, share } = await shared();
    const vends = world.backend.issuer.requests.length;
    for (const [token, id] of [
      [world.tokens.carol, share.id],
      [world.tokens.alice, share.id],
      [world.tokens.bob, 'x'.repeat(32)],
      [world.tokens.bob, '../../etc'],
      [world.tokens.bob, undefined],
    ] as const) {
      const error = await thrown(world.sharing.shares.credentials(token, id));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).message).toBe('No such share.');
    }
    expect(world.backend.issuer.requests).toHaveLength(vends);
  });

  it('any id that is not 32 base64url characters is a 404 before any store read (property)', async () => {
    const { world } = await shared();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 32, maxLength: 32 }), fc.constant(undefined)),
        async (id) => {
          fc.pre(id === undefined || !/^[A-Za-z0-9_-]{32}$/.test(id));
          const reads = world.shares.calls.get('receivedFrom') ?? 0;
          expect(await thrown(world.sharing.shares.credentials(world.tokens.bob, id))).toBeInstanceOf(NotFoundError);
          expect(await thrown(world.sharing.revoker.remove(world.tokens.bob, id))).toBeInstanceOf(NotFoundError);
          expect(world.shares.calls.get('receivedFrom') ?? 0).toBe(reads);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an expired share vends nothing and is no longer listed', async () => {
    const end = new Date(Date.UTC(2026, 0, 1, 13, 0, 0)).toISOString();
    const { world, share } = await shared('read', 'photos/', end);
    world.backend.clock.advance(3_600_000);
    expect(await thrown(world.sharing.shares.credentials(world.tokens.bob, share.id))).toBeInstanceOf(NotFoundError);
    expect(await world.sharing.shares.list(world.tokens.bob)).toEqual({ given: [], received: [] });
  });

  it('an owner who is disabled (or being deleted) vends nothing to the grantee', async () => {
    const { world, share } = await shared();
    const owner = await world.backend.users.getUser(alice);
    await world.backend.users.updateUser(alice, owner!.userId, { disabled: true });
    expect(await thrown(world.sharing.shares.credentials(world.tokens.bob, share.id))).toBeInstanceOf(NotFoundError);
  });

  it("a later account under the owner's name gives nothing", async () => {
    const { world, share } = await shared();
    // The owner's account is deleted (the name held, then free) and the name registered again.
    const ownerRecord = (await world.backend.users.getUser(alice))!;
    await world.backend.users.holdName(alice, ownerRecord.userId, world.backend.clock.now() - 1);
    await world.backend.users.createUser({
      ...ownerRecord,
      userId: 'a-new-registration',
      createdAt: world.backend.clock.now(),
    });
    expect(await thrown(world.sharing.shares.credentials(world.tokens.bob, share.id))).toBeInstanceOf(NotFoundError);
  });

  it("a later account under the grantee's name receives nothing", async () => {
    const { world, share } = await shared();
    const granteeRecord = (await world.backend.users.getUser(bob))!;
    await world.backend.users.holdName(bob, granteeRecord.userId, world.backend.clock.now() - 1);
    const newBob = await world.register('bob');
    expect(await thrown(world.sharing.shares.credentials(newBob, share.id))).toBeInstanceOf(NotFoundError);
    expect(await world.sharing.shares.list(newBob)).toEqual({ given: [], received: [] });
    expect(await thrown(world.sharing.revoker.remove(newBob, share.id))).toBeInstanceOf(NotFoundError);
  });

  it('a failing STS vends nothing and records no use (503)', async () => {
    const { world, share } = await shared();
    world.backend.issuer.failNext();
    expect(await thrown(world.sharing.shares.credentials(world.tokens.bob, share.id))).toBeInstanceOf(
      BackendUnavailableError,
    );
    expect((await world.sharing.shares.list(world.tokens.alice)).given[0]?.lastUsedAt).toBeUndefined();
  });
});

describe('ending a share', () => {
  it('the owner revokes: the cut-off comes first, then the records; no more credentials', async () => {
    const world = await setup();
    const share = await world.sharing.shares.create(world.tokens.alice, {
      path: 'photos/',
      grantee: 'bob',
      access: 'read',
    });
    await world.sharing.revoker.remove(world.tokens.alice, share.id);
    expect(world.shareCutOff.cutOffIds).toEqual([share.id]);
    expect(await world.sharing.shares.list(world.tokens.bob)).toEqual({ given: [], received: [] });
    expect(await thrown(world.sharing.shares.credentials(world.tokens.bob, share.id))).toBeInstanceOf(NotFoundError);
    expect(world.shares.count(alice)).toBe(0);
    expect(world.backend.audit.types('alice')).toContain('share_revoked');
    expect(world.backend.audit.types('bob')).toContain('share_revoked');
  });

  it('the grantee leaves: cut off and removed from both lists', async () => {
    const world = await setup();
    const share = await world.sharing.shares.create(world.tokens.alice, {
      path: '',
      grantee: 'bob',
      access: 'readwrite',
    });
    await world.sharing.revoker.remove(world.tokens.bob, share.id);
    expect(world.shareCutOff.cutOffIds).toEqual([share.id]);
    expect((await world.sharing.shares.list(world.tokens.alice)).given).toEqual([]);
    expect(world.backend.audit.types('bob')).toContain('share_left');
  });

  it('carol cannot end it (404) and it keeps working', async () => {
    const world = await setup();
    const share = await world.sharing.shares.create(world.tokens.alice, {
      path: 'photos/',
      grantee: 'bob',
      access: 'read',
    });
    const before = state(world);
    expect(await thrown(world.sharing.revoker.remove(world.tokens.carol, share.id))).toBeInstanceOf(NotFoundError);
    expect(await thrown(world.sharing.revoker.remove(world.tokens.carol, 'not an id'))).toBeInstanceOf(NotFoundError);
    expect(state(world)).toBe(before);
    await world.sharing.shares.credentials(world.tokens.bob, share.id);
  });

  it('a failing cut-off removes nothing (503): the share is never gone while its credentials still work', async () => {
    const world = await setup();
    const share = await world.sharing.shares.create(world.tokens.alice, {
      path: 'photos/',
      grantee: 'bob',
      access: 'read',
    });
    world.shareCutOff.failNext(new BackendUnavailableError('IAM'));
    expect(await thrown(world.sharing.revoker.remove(world.tokens.alice, share.id))).toBeInstanceOf(
      BackendUnavailableError,
    );
    expect((await world.sharing.shares.list(world.tokens.bob)).received).toHaveLength(1);
  });
});

describe('expiresAt', () => {
  it(`accepts exactly the instants within ${SHARE_MAX_LIFETIME_DAYS} days ahead (property)`, () => {
    const now = Date.UTC(2026, 0, 1, 12);
    fc.assert(
      fc.property(fc.integer({ min: -2 * 365 * DAY, max: 2 * 365 * DAY }), (offset) => {
        const at = now + offset;
        const text = new Date(at).toISOString();
        const ok = at > now && at <= now + SHARE_MAX_LIFETIME_DAYS * DAY;
        const result = (() => {
          try {
            return parseExpiresAt(text, now);
          } catch (error) {
            return error;
          }
        })();
        expect(ok ? result === at : result instanceof ValidationError).toBe(true);
      }),
    );
  });
});
