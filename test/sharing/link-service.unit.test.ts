/**
 * The share-link rules on in-memory ports, no mocks: one file, opened by id alone, for at most
 * LINK_URL_SECONDS per URL, until revoked or ended; the id stays out of the audit and the logs.
 */
import { parseUsername } from '../../lambda/accounts/username';
import { LINK_URL_SECONDS, LINKS_PER_OWNER_MAX } from '../../lambda/contract/limits';
import { SHARE_SESSION_TAG } from '../../lambda/credentials/revocation';
import { LimitReachedError, NotFoundError, ValidationError } from '../../lambda/platform/errors';
import { LINK_ID_AUDIT_CHARACTERS, linkSessionTag } from '../../lambda/sharing/link-service';
import { thrown } from '../support/async';
import { inMemorySharing } from '../support/in-memory-sharing';

const BASE = 'https://api.example.com/prod';
const alice = parseUsername('alice');
const HOUR = 3_600_000;

async function setup() {
  const world = inMemorySharing();
  const tokens = { alice: await world.register('alice'), bob: await world.register('bob') };
  return { ...world, tokens };
}

describe('share links', () => {
  it('alice links photos/a.jpg: an id of 192 bits, a URL under the API, listed with its path', async () => {
    const world = await setup();
    const created = await world.sharing.links.create(world.tokens.alice, { path: 'photos/a.jpg' }, BASE);
    expect(created).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      url: `${BASE}/l/${created.id}`,
      expiresAt: null,
    });
    expect(await world.sharing.links.list(world.tokens.alice, BASE)).toEqual({
      links: [{ ...created, path: 'photos/a.jpg', createdAt: new Date(world.backend.clock.now()).toISOString() }],
    });
    expect(await world.sharing.links.list(world.tokens.bob, BASE)).toEqual({ links: [] });
  });

  it.each([
    ['the whole folder', ''],
    ['a folder', 'photos/'],
    ['a path with ..', '../bob/a.jpg'],
    ['a wildcard', 'photos/*.jpg'],
  ])('refuses %s (a link is one file) with 400 and writes nothing', async (_what, path) => {
    const world = await setup();
    const error = await thrown(world.sharing.links.create(world.tokens.alice, { path }, BASE));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('path');
    expect(world.links.snapshot()).toBe('[]');
    expect(world.links.count(alice)).toBe(0);
  });

  it('opening signs a GET of exactly that key for LINK_URL_SECONDS, with read-only credentials for that object', async () => {
    const world = await setup();
    const { id } = await world.sharing.links.create(world.tokens.alice, { path: 'photos/a.jpg' }, BASE);
    const url = await world.sharing.opener.open(id, { sourceIp: '198.51.100.7' });
    expect(world.presigner.signed).toEqual([
      {
        credentials: expect.any(Object),
        bucket: 'tvm-test-files',
        key: 'alice/photos/a.jpg',
        seconds: LINK_URL_SECONDS,
      },
    ]);
    expect(url).toContain('alice%2Fphotos%2Fa.jpg');
    const request = world.backend.issuer.requests.at(-1)!;
    expect(request.username).toBe('alice');
    const policy = JSON.parse(request.sessionPolicy) as {
      Statement: { Effect: string; Action: string[]; Resource: string; Condition: unknown }[];
    };
    // One Allow (the object, read only); the rest are the template's Denies.
    expect(policy.Statement.filter((statement) => statement.Effect === 'Allow')).toHaveLength(1);
    expect(policy.Statement[0]?.Action).toEqual(['s3:GetObject']);
    expect(policy.Statement[0]?.Resource).toBe('arn:aws:s3:::tvm-test-files/alice/photos/a.jpg');
    const urlEnd = new Date(world.backend.clock.now() + LINK_URL_SECONDS * 1000).toISOString().replace('.000Z', 'Z');
    expect(JSON.stringify(policy.Statement[0]?.Condition)).toContain(urlEnd);
    // The id is the bearer secret: the session tag carries a digest, the audit a prefix, the log neither.
    expect(request.extraTags?.[SHARE_SESSION_TAG]).toBe(linkSessionTag(id));
    expect(JSON.stringify(request.extraTags)).not.toContain(id);
    const opened = world.backend.audit.events.find((event) => event.type === 'link_opened');
    expect(opened?.details?.linkId).toBe(id.slice(0, LINK_ID_AUDIT_CHARACTERS));
    expect(JSON.stringify(world.backend.audit.events)).not.toContain(id);
    expect(world.backend.log.text()).not.toContain(id);
    const [listed] = (await world.sharing.links.list(world.tokens.alice, BASE)).links;
    expect(listed).toMatchObject({ lastUsedBy: '198.51.100.7', lastUsedAt: expect.any(String) });
  });

  it("a link ending sooner than LINK_URL_SECONDS: the credentials' policy ends with the link", async () => {
    const world = await setup();
    const end = world.backend.clock.now() + 120_000;
    const { id } = await world.sharing.links.create(
      world.tokens.alice,
      { path: 'a.txt', expiresAt: new Date(end).toISOString() },
      BASE,
    );
    await world.sharing.opener.open(id);
    expect(world.backend.issuer.requests.at(-1)!.sessionPolicy).toContain(
      new Date(end).toISOString().replace('.000Z', 'Z'),
    );
  });

  it('an unknown, malformed, revoked or ended link, or one whose owner is disabled, is a 404 and vends nothing', async () => {
    const world = await setup();
    const { id: revoked } = await world.sharing.links.create(world.tokens.alice, { path: 'a.txt' }, BASE);
    await world.sharing.links.remove(world.tokens.alice, revoked);
    const { id: ending } = await world.sharing.links.create(
      world.tokens.alice,
      { path: 'b.txt', expiresAt: new Date(world.backend.clock.now() + HOUR).toISOString() },
      BASE,
    );
    world.backend.clock.advance(HOUR);
    const vends = world.backend.issuer.requests.length;
    for (const id of [revoked, ending, 'A'.repeat(32), 'short', undefined, '../../x']) {
      const error = await thrown(world.sharing.opener.open(id));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).message).toBe('No such link, or it has ended.');
    }
    const { id: live } = await world.sharing.links.create(world.tokens.alice, { path: 'c.txt' }, BASE);
    const owner = (await world.backend.users.getUser(alice))!;
    await world.backend.users.updateUser(alice, owner.userId, { disabled: true });
    expect(await thrown(world.sharing.opener.open(live))).toBeInstanceOf(NotFoundError);
    expect(world.backend.issuer.requests).toHaveLength(vends);
  });

  it("bob cannot revoke alice's link (404), and it still opens", async () => {
    const world = await setup();
    const { id } = await world.sharing.links.create(world.tokens.alice, { path: 'a.txt' }, BASE);
    expect(await thrown(world.sharing.links.remove(world.tokens.bob, id))).toBeInstanceOf(NotFoundError);
    await world.sharing.opener.open(id);
  });

  it(`refuses link number ${LINKS_PER_OWNER_MAX + 1} with 409; revoking one frees a place`, async () => {
    const world = await setup();
    const ids = [];
    for (let i = 0; i < LINKS_PER_OWNER_MAX; i++) {
      ids.push((await world.sharing.links.create(world.tokens.alice, { path: `f${i}` }, BASE)).id);
    }
    const before = world.links.snapshot();
    expect(await thrown(world.sharing.links.create(world.tokens.alice, { path: 'x' }, BASE))).toBeInstanceOf(
      LimitReachedError,
    );
    expect(world.links.snapshot()).toBe(before);
    await world.sharing.links.remove(world.tokens.alice, ids[0]);
    await world.sharing.links.create(world.tokens.alice, { path: 'x' }, BASE);
    expect(world.links.count(alice)).toBe(LINKS_PER_OWNER_MAX);
  });
});
