/**
 * The template-level proof for shares (issue "What must hold", items 1, 2, 3 and 5 on the policy
 * side). The stack is synthesised once; the vending role's identity policies come from the
 * CloudFormation template (test/support/vending-role-template.ts), the share's session policy is
 * rendered and serialised by the TVM's own code (parseSharePath, renderSharePolicy,
 * serialiseSessionPolicy) and read back as IAM would, the cut-off list is rendered by the TVM's own
 * renderRevocationPolicy within the role's real budget, and every request is decided by a real
 * IAM policy engine (@cloud-copilot/iam-simulate) for the assumed-role principal with the session
 * tags the STS issuer sets (username = the grantee, revocationGroup, share, shareGroup).
 *
 * Shares come from fast-check, biased toward adversarial neighbours: `photos/a.jpg` against
 * `photos/a.jpg.bak` and `photos/a.jpg/x`, `photos/` against `photos2/` and the key `photos`,
 * owner `al` against `alice`. Each decision is compared with a specification written without the
 * policy text ({@link specAllows}); a failing case prints its counterexample and the request.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { USERNAME_MAX_LENGTH } from '../../lambda/contract/limits';
import type { ShareAccess } from '../../lambda/contract/wire';
import { isUsername, type Username } from '../../lambda/accounts/username';
import { asciiJson, bucketArn, serialiseSessionPolicy } from '../../lambda/credentials/policy';
import {
  renderRevocationPolicy,
  revocationBudget,
  revocationGroup,
  shareRevocationGroup,
  type RevokedUser,
} from '../../lambda/credentials/revocation';
import type { RevokedShare } from '../../lambda/sharing/ports';
import { parseSharePath, sharePathKind } from '../../lambda/sharing/share-path';
import { renderSharePolicy, sharedPrefix } from '../../lambda/sharing/share-policy';
import { SHARE_OBJECT_ACTIONS, VENDING_ROLE_POLICY_NAME, type PolicyDocument } from '../../policies';
import { acceptedPath } from './share-arbitraries';
import {
  ACCOUNT,
  ALWAYS_ALLOWED_BY_AWS,
  FILE_BUCKET_ARN,
  OTHER_BUCKETS,
  PARTITION,
  VENDING_ROLE_NAME,
  actionLists,
  vendingRolePoliciesFromTemplate,
  type ActionLists,
  type NamedPolicy,
} from '../support/vending-role-template';

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** A share as the credentials route vends it. */
interface Share {
  readonly id: string;
  readonly owner: Username;
  readonly grantee: Username;
  readonly path: string;
  readonly access: ShareAccess;
  /** Epoch ms; undefined = until revoked. */
  readonly endsAt?: number;
}

/** One request made with the share's credentials. */
interface Request {
  readonly action: string;
  readonly resource: string;
  /** `s3:prefix`; undefined = the request has none. */
  readonly prefix?: string;
  /** Epoch ms of the request (aws:CurrentTime). */
  readonly at: number;
  /** Epoch ms at which STS issued the credentials (aws:TokenIssueTime). */
  readonly issuedAt: number;
}

/** The cut-off list on the vending role (tvm-revoked-users), as the worker would render it. */
interface CutOffs {
  readonly users?: readonly RevokedUser[];
  readonly shares?: readonly RevokedShare[];
}

const NOW = Date.UTC(2026, 11, 7, 21, 0, 0);
const HOUR = 3_600_000;

let identityPolicies: NamedPolicy[];
let budget: number;
let actions: ActionLists;
let evaluations = 0;
const outcomes = { allowed: 0, denied: 0 };

beforeAll(async () => {
  identityPolicies = vendingRolePoliciesFromTemplate();
  const own = identityPolicies.find((entry) => entry.name === VENDING_ROLE_POLICY_NAME);
  if (!own) throw new Error(`No ${VENDING_ROLE_POLICY_NAME} on the vending role in the template`);
  budget = revocationBudget(own.policy);
  actions = await actionLists();
}, 120_000);

afterAll(() => {
  console.log(
    `share isolation proof: ${evaluations} IAM evaluations (${outcomes.allowed} allowed, ${outcomes.denied} denied)`,
  );
});

const policyCache = new Map<string, PolicyDocument>();

/** The session policy exactly as the TVM sends it (rendered, serialised in ASCII, size-checked) and IAM reads it. */
function sessionPolicyOf(share: Share): PolicyDocument {
  const key = JSON.stringify(share);
  let policy = policyCache.get(key);
  if (!policy) {
    const text = serialiseSessionPolicy(
      renderSharePolicy({
        bucketArn: FILE_BUCKET_ARN,
        owner: share.owner,
        path: parseSharePath(share.path),
        access: share.access,
        ...(share.endsAt !== undefined ? { endsAt: share.endsAt } : {}),
      }),
    );
    policy = JSON.parse(text) as PolicyDocument;
    policyCache.set(key, policy);
  }
  return policy;
}

function revocationPolicyOf(cutOffs: CutOffs): NamedPolicy[] {
  const rendered = renderRevocationPolicy(cutOffs.users ?? [], budget, cutOffs.shares ?? []);
  return rendered.policy ? [{ name: 'tvm-revoked-users', policy: rendered.policy }] : [];
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

async function decide(share: Share, request: Request, cutOffs: CutOffs = {}): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${VENDING_ROLE_NAME}/${share.grantee}`,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalTag/username': share.grantee,
          'aws:PrincipalTag/revocationGroup': revocationGroup(share.grantee),
          'aws:PrincipalTag/share': share.id,
          'aws:PrincipalTag/shareGroup': shareRevocationGroup(share.id),
          'aws:SourceIdentity': share.grantee,
          'aws:SecureTransport': 'true',
          'aws:CurrentTime': iso(request.at),
          'aws:TokenIssueTime': iso(request.issuedAt),
          ...(request.prefix !== undefined ? { 's3:prefix': request.prefix } : {}),
        },
      },
      identityPolicies: [...identityPolicies, ...revocationPolicyOf(cutOffs)],
      sessionPolicy: sessionPolicyOf(share),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  evaluations++;
  if (result.resultType === 'error')
    throw new Error(`The IAM engine refused ${JSON.stringify(request)}: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single')
    throw new Error(`Expected one result for ${JSON.stringify(request)}, got ${result.resultType}`);
  return result.overallResult as Decision;
}

/** Whether a cut-off on the list covers these credentials (by share id, share group, or the grantee's name or group). */
function cutOff(share: Share, request: Request, cutOffs: CutOffs, matched: 'exact' | 'group'): boolean {
  const issuedBefore = (cutOffAt: number) => request.issuedAt < cutOffAt;
  const shares = (cutOffs.shares ?? []).filter((entry) =>
    matched === 'exact'
      ? entry.shareId === share.id
      : shareRevocationGroup(entry.shareId) === shareRevocationGroup(share.id),
  );
  const users = (cutOffs.users ?? []).filter((entry) =>
    matched === 'exact'
      ? entry.username === share.grantee
      : revocationGroup(entry.username) === revocationGroup(share.grantee),
  );
  return [...shares, ...users].some((entry) => issuedBefore(entry.cutOffAt));
}

/**
 * The specification, written from the issue without the policy text: share credentials may take
 * the access's object actions on the shared file, or on keys under the shared folder, and a folder
 * share may list with a prefix under the folder; nothing else, and nothing at all once the share
 * has ended or once a cut-off covers credentials issued before it.
 */
function specAllows(
  share: Share,
  request: Request,
  cutOffs: CutOffs = {},
  matched: 'exact' | 'group' = 'exact',
): boolean {
  if (share.endsAt !== undefined && request.at >= Math.floor(share.endsAt / 1000) * 1000) return false;
  if (cutOff(share, request, cutOffs, matched)) return false;
  const prefix = `${share.owner}/${share.path}`;
  const isFile = share.path !== '' && !share.path.endsWith('/');
  if (request.resource.startsWith(`${FILE_BUCKET_ARN}/`)) {
    const key = request.resource.slice(FILE_BUCKET_ARN.length + 1);
    const inside = isFile ? key === prefix : key.startsWith(prefix);
    return inside && (SHARE_OBJECT_ACTIONS[share.access] as readonly string[]).includes(request.action);
  }
  if (request.resource === FILE_BUCKET_ARN && request.action === 's3:ListBucket') {
    return !isFile && request.prefix !== undefined && request.prefix.startsWith(prefix);
  }
  return false;
}

async function expectDecision(
  share: Share,
  request: Request,
  cutOffs: CutOffs = {},
  matched: 'exact' | 'group' = 'exact',
): Promise<boolean> {
  const allowed = specAllows(share, request, cutOffs, matched);
  const decision = await decide(share, request, cutOffs);
  if ((decision === 'Allowed') !== allowed) {
    throw new Error(
      `${allowed ? 'expected Allowed' : 'expected a denial'}, got ${decision} for ${asciiJson(request)} with share ${asciiJson(share)} and cut-offs ${asciiJson(cutOffs).slice(0, 300)}`,
    );
  }
  if (allowed) outcomes.allowed++;
  else outcomes.denied++;
  return allowed;
}

// ---- generators -------------------------------------------------------------------------

const SEPARATORS = ['.', '_', '-'] as const;
const nameSegment = fc.string({ unit: fc.constantFrom(...'abz019'.split('')), minLength: 1, maxLength: 6 });
/** A valid username, 2-64 characters, from a small alphabet so that neighbours are likely. */
const username: fc.Arbitrary<Username> = fc
  .tuple(nameSegment, fc.array(fc.tuple(fc.constantFrom(...SEPARATORS), nameSegment), { maxLength: 3 }))
  .map(([head, rest]) => (head + rest.map(([s, part]) => s + part).join('')).slice(0, USERNAME_MAX_LENGTH))
  .filter(isUsername)
  .map((name) => name as Username);

/** Names one edit away from `name` that an off-by-one prefix check would confuse with it. */
function neighboursOf(name: string): Username[] {
  const candidates = [
    `${name}x`,
    `${name}1`,
    `${name}.c`,
    `${name}-x`,
    name.slice(0, -1),
    `${name}ice`,
    `${name.slice(0, -1)}z`,
  ];
  return [...new Set(candidates)].filter((c) => c !== name && isUsername(c)) as Username[];
}

const ADVERSARIAL_PATHS = ['photos/a.jpg', 'photos/', '', 'a', 'photos/2026/', 'photos/a.jpg.bak', 'p', 'photos/a'];

const shareId = fc
  .uint8Array({ minLength: 24, maxLength: 24 })
  .map((bytes) => Buffer.from(bytes).toString('base64url'));

/** A share with a distinct grantee; owners biased to al/alice-style pairs, paths to photos/a.jpg-style ones. */
const share: fc.Arbitrary<Share> = fc
  .record({
    id: shareId,
    owner: fc.oneof(fc.constantFrom('al', 'alice', 'a-b', 'ab.c') as fc.Arbitrary<Username>, username),
    grantee: fc.oneof(fc.constantFrom('bob', 'alice2', 'al') as fc.Arbitrary<Username>, username),
    path: fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...ADVERSARIAL_PATHS) },
      { weight: 3, arbitrary: acceptedPath },
    ),
    access: fc.constantFrom<ShareAccess>('read', 'readwrite'),
    endsAt: fc.option(fc.integer({ min: NOW + 60_000, max: NOW + 365 * 24 * HOUR }), { nil: undefined }),
  })
  .filter((s) => s.owner !== s.grantee)
  .map((s) =>
    s.endsAt === undefined ? { id: s.id, owner: s.owner, grantee: s.grantee, path: s.path, access: s.access } : s,
  );

/** Key text after a prefix: no `*` or `?` (the engine reads those in a request as wildcards; shared paths refuse them). */
const keyRest = fc.string({
  unit: fc.constantFrom(...'abc/.-_%{}[] =+~é写'.split(''), '..', '😀'),
  minLength: 1,
  maxLength: 12,
});

/** Keys next to the share that an off-by-one or a missing `/` would let in; each is outside the share unless the spec says so. */
function neighbourKeys(s: Share, rest: string): string[] {
  const prefix = sharedPrefix(s.owner, parseSharePath(s.path));
  const kind = sharePathKind(parseSharePath(s.path));
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const parent = trimmed.slice(0, trimmed.lastIndexOf('/') + 1);
  const keys = [
    `${trimmed}.bak`,
    `${trimmed}2/${rest}`,
    `${trimmed}${rest.startsWith('/') ? `x${rest}` : rest}`,
    trimmed,
    `${trimmed.slice(0, -1)}`,
    `${parent}other-${rest}`,
    `${prefix.toUpperCase()}${rest}`,
    ...neighboursOf(s.owner).map((other) => `${other}/${s.path}${kind === 'file' ? '' : rest}`),
    `${s.grantee}/${s.path}${rest}`,
    `${s.path}${rest}`,
    ...(kind === 'file' ? [`${prefix}/${rest}`, `${prefix}${rest}`] : []),
  ];
  return [...new Set(keys)].filter((key) => key !== '' && !key.includes('*') && !key.includes('?'));
}

function insideKey(s: Share, rest: string): string {
  const prefix = sharedPrefix(s.owner, parseSharePath(s.path));
  return sharePathKind(parseSharePath(s.path)) === 'file' ? prefix : `${prefix}${rest}`;
}

const live = (at = NOW, issuedAt = NOW - 1000) => ({ at, issuedAt });

// ---- the proofs -------------------------------------------------------------------------

describe('item 1: share credentials reach exactly the shared path with the shared access', () => {
  it('inside the path, exactly the access actions are allowed: read gets and heads only; readwrite also puts, deletes and runs multipart (every S3 object action, property)', async () => {
    await fc.assert(
      fc.asyncProperty(share, keyRest, fc.constantFrom(...actions.object), async (s, rest, action) => {
        const allowed = await expectDecision(s, {
          action,
          resource: `${FILE_BUCKET_ARN}/${insideKey(s, rest)}`,
          ...live(),
        });
        expect(allowed).toBe((SHARE_OBJECT_ACTIONS[s.access] as readonly string[]).includes(action));
      }),
      { numRuns: 400 },
    );
  });

  it('the adversarial neighbours are denied: photos/a.jpg.bak, photos/a.jpg/x, photos2/, the key "photos", the parent folder, al vs alice, the grantee\'s own folder, the bucket root (property)', async () => {
    await fc.assert(
      fc.asyncProperty(share, keyRest, fc.constantFrom(...actions.object), async (s, rest, action) => {
        for (const key of neighbourKeys(s, rest)) {
          await expectDecision(s, { action, resource: `${FILE_BUCKET_ARN}/${key}`, ...live() });
        }
      }),
      { numRuns: 250 },
    );
  });

  it('the chosen neighbours of photos/a.jpg and photos/ are all denied to every S3 object action (exhaustive)', async () => {
    const file: Share = {
      id: 'A'.repeat(32),
      owner: 'al' as Username,
      grantee: 'bob' as Username,
      path: 'photos/a.jpg',
      access: 'readwrite',
    };
    const folder: Share = { ...file, id: 'B'.repeat(32), path: 'photos/' };
    const outsideFile = [
      'al/photos/a.jpg.bak',
      'al/photos/a.jpg/x',
      'al/photos/a.jp',
      'al/photos/A.jpg',
      'al/photos/b.jpg',
      'al/photos/',
      'alice/photos/a.jpg',
      'photos/a.jpg',
    ];
    const outsideFolder = [
      'al/photos2/x',
      'al/photos',
      'al/photo/x',
      'al/photos.bak/x',
      'al/x',
      'alice/photos/x',
      'bob/photos/x',
      'al',
    ];
    for (const action of actions.object) {
      for (const key of outsideFile)
        expect(await expectDecision(file, { action, resource: `${FILE_BUCKET_ARN}/${key}`, ...live() })).toBe(false);
      for (const key of outsideFolder)
        expect(await expectDecision(folder, { action, resource: `${FILE_BUCKET_ARN}/${key}`, ...live() })).toBe(false);
      for (const other of OTHER_BUCKETS)
        expect(await expectDecision(folder, { action, resource: `${bucketArn(other)}/al/photos/x`, ...live() })).toBe(
          false,
        );
    }
  });

  it('ListBucket: a folder share lists only with a prefix under the folder; a file share lists nothing, not even its own name; every other bucket action is denied (property)', async () => {
    await fc.assert(
      fc.asyncProperty(share, keyRest, fc.constantFrom(...actions.bucket), async (s, rest, action) => {
        const prefix = sharedPrefix(s.owner, parseSharePath(s.path));
        const isFile = sharePathKind(parseSharePath(s.path)) === 'file';
        const inside = await expectDecision(s, {
          action: 's3:ListBucket',
          resource: FILE_BUCKET_ARN,
          prefix: `${prefix}${rest}`,
          ...live(),
        });
        expect(inside).toBe(!isFile);
        const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
        for (const outside of [
          '',
          '/',
          `${s.owner}`,
          `${s.owner}/`,
          trimmed,
          `${trimmed}2/`,
          `${trimmed.slice(0, -1)}`,
          prefix,
          `${s.grantee}/`,
        ]) {
          await expectDecision(s, { action: 's3:ListBucket', resource: FILE_BUCKET_ARN, prefix: outside, ...live() });
        }
        expect(await expectDecision(s, { action: 's3:ListBucket', resource: FILE_BUCKET_ARN, ...live() })).toBe(false);
        // Every bucket action but ListBucket, even with the shared prefix (ListBucket itself is judged above).
        expect(await expectDecision(s, { action, resource: FILE_BUCKET_ARN, prefix, ...live() })).toBe(
          action === 's3:ListBucket' && !isFile,
        );
      }),
      { numRuns: 250 },
    );
  });

  it("no STS, IAM or DynamoDB action, for any share (property), and every one of them for one share (exhaustive); GetCallerIdentity is AWS's one exception", async () => {
    await fc.assert(
      fc.asyncProperty(share, fc.constantFrom(...actions.otherServices), async (s, { action, resource }) => {
        expect(await expectDecision(s, { action, resource, ...live() })).toBe(false);
        expect(await decide(s, { action, resource, ...live() })).toBe('ExplicitlyDenied');
      }),
      { numRuns: 200 },
    );
    const one: Share = {
      id: 'C'.repeat(32),
      owner: 'alice' as Username,
      grantee: 'bob' as Username,
      path: '',
      access: 'readwrite',
    };
    for (const { action, resource } of actions.otherServices)
      expect(await expectDecision(one, { action, resource, ...live() })).toBe(false);
    expect(await decide(one, { action: ALWAYS_ALLOWED_BY_AWS, resource: '*', ...live() })).toBe('Allowed');
  });
});

describe('item 2: expiry and revocation cut off issued share credentials', () => {
  it("after the share's end (aws:CurrentTime), nothing is allowed, inside the path or anywhere; a second before, the access works (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        share.filter((s) => s.endsAt !== undefined),
        keyRest,
        fc.integer({ min: 0, max: 2 * HOUR }),
        async (s, rest, after) => {
          const end = Math.floor((s.endsAt as number) / 1000) * 1000;
          const key = `${FILE_BUCKET_ARN}/${insideKey(s, rest)}`;
          expect(
            await expectDecision(s, { action: 's3:GetObject', resource: key, at: end - 1000, issuedAt: end - HOUR }),
          ).toBe(true);
          for (const action of SHARE_OBJECT_ACTIONS[s.access]) {
            expect(await expectDecision(s, { action, resource: key, at: end + after, issuedAt: end - 1000 })).toBe(
              false,
            );
          }
          const prefix = sharedPrefix(s.owner, parseSharePath(s.path));
          expect(
            await expectDecision(s, {
              action: 's3:ListBucket',
              resource: FILE_BUCKET_ARN,
              prefix,
              at: end + after,
              issuedAt: end - 1000,
            }),
          ).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a share on the cut-off list by id: credentials issued before the cut-off reach nothing; later ones, and other shares, are untouched (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        share,
        keyRest,
        fc.array(shareId, { maxLength: 20 }),
        fc.integer({ min: 1, max: HOUR }),
        async (s, rest, others, offset) => {
          const cutOffAt = Math.floor((NOW - offset) / 1000) * 1000;
          const cutOffs: CutOffs = {
            shares: [
              { shareId: s.id, cutOffAt },
              ...others.map((id) => ({ shareId: id, cutOffAt: cutOffAt - 60_000 })),
            ],
          };
          expect(renderRevocationPolicy([], budget, cutOffs.shares).sharesMatchedBy).toBe('shares');
          const key = `${FILE_BUCKET_ARN}/${insideKey(s, rest)}`;
          for (const action of SHARE_OBJECT_ACTIONS[s.access]) {
            expect(
              await expectDecision(s, { action, resource: key, at: NOW, issuedAt: cutOffAt - 1000 }, cutOffs),
            ).toBe(false);
            expect(await decide(s, { action, resource: key, at: NOW, issuedAt: cutOffAt - 1000 }, cutOffs)).toBe(
              'ExplicitlyDenied',
            );
          }
          expect(
            await expectDecision(s, { action: 's3:GetObject', resource: key, at: NOW, issuedAt: cutOffAt }, cutOffs),
          ).toBe(true);
          const untouched: Share = { ...s, id: `${s.id.slice(0, -1)}${s.id.endsWith('A') ? 'B' : 'A'}` };
          fc.pre(!others.includes(untouched.id));
          expect(
            await expectDecision(
              untouched,
              { action: 's3:GetObject', resource: key, at: NOW, issuedAt: cutOffAt - 1000 },
              cutOffs,
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('revoke-credentials on the grantee (the username tag) also cuts off their share credentials issued before it', async () => {
    const s: Share = {
      id: 'D'.repeat(32),
      owner: 'alice' as Username,
      grantee: 'bob' as Username,
      path: 'photos/',
      access: 'readwrite',
    };
    const cutOffAt = NOW - 60_000;
    const cutOffs: CutOffs = { users: [{ username: 'bob' as Username, cutOffAt }] };
    const key = `${FILE_BUCKET_ARN}/alice/photos/a.jpg`;
    expect(
      await expectDecision(s, { action: 's3:GetObject', resource: key, at: NOW, issuedAt: cutOffAt - 1000 }, cutOffs),
    ).toBe(false);
    expect(
      await expectDecision(s, { action: 's3:GetObject', resource: key, at: NOW, issuedAt: cutOffAt + 1000 }, cutOffs),
    ).toBe(true);
    // The owner's own revocation does not match share credentials by name: those are cut off by share id (account lifecycle).
    const ownerOnly: CutOffs = { users: [{ username: 'alice' as Username, cutOffAt }] };
    expect(
      await decide(s, { action: 's3:GetObject', resource: key, at: NOW, issuedAt: cutOffAt - 1000 }, ownerOnly),
    ).toBe('Allowed');
  });
});

describe("item 5: share revocations fit the vending role's inline-policy budget", () => {
  it('10,000 revoked shares with 10,000 distinct cut-offs fit (by share group): every one of them is cut off, and share credentials issued after the cut-offs still work', async () => {
    const ids = Array.from({ length: 10_000 }, (_, index) =>
      Buffer.from(`share-${index}`.padEnd(24, '.')).toString('base64url'),
    );
    const shares: RevokedShare[] = ids.map((id, index) => ({ shareId: id, cutOffAt: NOW - 20_000_000 + index * 1000 }));
    const rendered = renderRevocationPolicy([], budget, shares);
    expect(rendered.sharesMatchedBy).toBe('groups');
    expect(rendered.characters).toBeLessThanOrEqual(budget);
    const cutOffs: CutOffs = { shares };
    for (const index of [0, 1, 4999, 9999]) {
      const s: Share = {
        id: ids[index] as string,
        owner: 'alice' as Username,
        grantee: 'bob' as Username,
        path: 'p/',
        access: 'read',
      };
      const issuedAt = (shares[index] as RevokedShare).cutOffAt - 1000;
      expect(
        await expectDecision(
          s,
          { action: 's3:GetObject', resource: `${FILE_BUCKET_ARN}/alice/p/x`, at: NOW, issuedAt },
          cutOffs,
          'group',
        ),
      ).toBe(false);
    }
    const groups = new Set(ids.map(shareRevocationGroup));
    const outsider = Array.from({ length: 5000 }, (_, index) =>
      Buffer.from(`other-${index}`.padEnd(24, '.')).toString('base64url'),
    ).find((id) => !groups.has(shareRevocationGroup(id)));
    // 10,000 ids cover all 256 groups: a revoked group list this long cuts off every share issued before its oldest cut-off.
    expect(outsider).toBeUndefined();
    const fresh: Share = {
      id: 'E'.repeat(32),
      owner: 'alice' as Username,
      grantee: 'bob' as Username,
      path: 'p/',
      access: 'read',
    };
    expect(
      await expectDecision(
        fresh,
        { action: 's3:GetObject', resource: `${FILE_BUCKET_ARN}/alice/p/x`, at: NOW, issuedAt: NOW },
        cutOffs,
        'group',
      ),
    ).toBe(true);
  });
});

describe('negative control: the checks catch what they exist to catch', () => {
  it('a file share rendered as a folder pattern would let the grantee read photos/a.jpg.bak (so the neighbour check is not vacuous)', async () => {
    const s: Share = {
      id: 'F'.repeat(32),
      owner: 'al' as Username,
      grantee: 'bob' as Username,
      path: 'photos/a.jpg',
      access: 'read',
    };
    const mutated = JSON.parse(
      JSON.stringify(sessionPolicyOf(s)).replace('/al/photos/a.jpg"', '/al/photos/a.jpg*"'),
    ) as PolicyDocument;
    const result = await runSimulation(
      {
        request: {
          principal: `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${VENDING_ROLE_NAME}/bob`,
          action: 's3:GetObject',
          resource: { resource: `${FILE_BUCKET_ARN}/al/photos/a.jpg.bak`, accountId: ACCOUNT },
          contextVariables: { 'aws:CurrentTime': iso(NOW), 'aws:TokenIssueTime': iso(NOW - 1000) },
        },
        identityPolicies,
        sessionPolicy: mutated,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    expect(result.resultType === 'single' && result.overallResult).toBe('Allowed');
    expect(
      specAllows(s, { action: 's3:GetObject', resource: `${FILE_BUCKET_ARN}/al/photos/a.jpg.bak`, ...live() }),
    ).toBe(false);
  });
});
