/**
 * The share session policy (lambda/sharing/share-policy.ts): its shape for each kind of path and
 * access, and its size. The size is judged by the sandbox STS's own AssumeRole validation
 * (local/sts/assume-role.ts: AWS's 2,048-character limit, its character pattern and the packed
 * size of policy plus session tags), for the worst case the limits allow: the longest bucket
 * name (63) in the longest partition, the longest owner and grantee (64), a folder path at
 * SHARE_PATH_MAX_BYTES in each UTF-8 length, read-write, expiring, with the four session tags.
 */
import fc from 'fast-check';
import { SHARE_PATH_MAX_BYTES, USERNAME_MAX_LENGTH } from '../../lambda/contract/limits';
import type { ShareAccess } from '../../lambda/contract/wire';
import type { Username } from '../../lambda/accounts/username';
import { bucketArn, serialiseSessionPolicy } from '../../lambda/credentials/policy';
import {
  SHARE_GROUP_SESSION_TAG,
  SHARE_SESSION_TAG,
  REVOCATION_GROUP_SESSION_TAG,
  revocationGroup,
  shareRevocationGroup,
} from '../../lambda/credentials/revocation';
import { USERNAME_SESSION_TAG } from '../../lambda/adapters/sts-issuer';
import { PolicyTooLargeError } from '../../lambda/platform/errors';
import { parseSharePath, policyBytes, type SharePath } from '../../lambda/sharing/share-path';
import { renderSharePolicy, sharedPrefix } from '../../lambda/sharing/share-policy';
import { SHARE_OBJECT_ACTIONS, type PolicyDocument, type PolicyStatement } from '../../policies';
import { assumeRole, StsError } from '../../local/sts/assume-role';
import { SANDBOX_VENDING_ROLE_ARN } from '../../local/names';
import { acceptedPath } from './share-arbitraries';

const BUCKET_ARN = bucketArn('tvm-files');
const owner = (name: string) => name as Username;
const path = (raw: string) => parseSharePath(raw);
const END = Date.UTC(2027, 0, 2, 3, 4, 5, 678);

function statement(policy: PolicyDocument, sid: string): PolicyStatement | undefined {
  return policy.Statement.find((entry) => entry.Sid === sid);
}

/** AssumeRole's parameters as the STS issuer sends them for share credentials (lambda/adapters/sts-issuer.ts). */
function assumeRoleParams(grantee: string, policy: string, shareId: string): Map<string, string> {
  const tags: [string, string][] = [
    [USERNAME_SESSION_TAG, grantee],
    [REVOCATION_GROUP_SESSION_TAG, revocationGroup(owner(grantee))],
    [SHARE_SESSION_TAG, shareId],
    [SHARE_GROUP_SESSION_TAG, shareRevocationGroup(shareId)],
  ];
  return new Map([
    ['RoleArn', SANDBOX_VENDING_ROLE_ARN],
    ['RoleSessionName', grantee],
    ['SourceIdentity', grantee],
    ['DurationSeconds', '900'],
    ['Policy', policy],
    ...tags.flatMap(([key, value], index): [string, string][] => [
      [`Tags.member.${index + 1}.Key`, key],
      [`Tags.member.${index + 1}.Value`, value],
    ]),
  ]);
}

describe('renderSharePolicy: exactly the shared path with the shared access', () => {
  it('a file share allows the access actions on that one key, lists nothing, and denies STS, IAM and DynamoDB', () => {
    const policy = renderSharePolicy({
      bucketArn: BUCKET_ARN,
      owner: owner('alice'),
      path: path('photos/a.jpg'),
      access: 'read',
      endsAt: END,
    });
    expect(policy.Statement).toEqual([
      {
        Sid: 'SharedObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: `${BUCKET_ARN}/alice/photos/a.jpg`,
        Condition: { DateLessThan: { 'aws:CurrentTime': '2027-01-02T03:04:05Z' } },
      },
      { Sid: 'NoEscalation', Effect: 'Deny', Action: ['sts:*', 'iam:*', 'dynamodb:*'], Resource: '*' },
    ]);
  });

  it('a folder share allows the access actions under the folder and ListBucket with its prefix only', () => {
    const policy = renderSharePolicy({
      bucketArn: BUCKET_ARN,
      owner: owner('alice'),
      path: path('photos/'),
      access: 'readwrite',
      endsAt: END,
    });
    expect(statement(policy, 'SharedObjects')).toEqual({
      Sid: 'SharedObjects',
      Effect: 'Allow',
      Action: [...SHARE_OBJECT_ACTIONS.readwrite],
      Resource: `${BUCKET_ARN}/alice/photos/*`,
      Condition: { DateLessThan: { 'aws:CurrentTime': '2027-01-02T03:04:05Z' } },
    });
    expect(statement(policy, 'ListSharedFolderOnly')).toEqual({
      Sid: 'ListSharedFolderOnly',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: BUCKET_ARN,
      Condition: {
        StringLike: { 's3:prefix': ['alice/photos/', 'alice/photos/*'] },
        DateLessThan: { 'aws:CurrentTime': '2027-01-02T03:04:05Z' },
      },
    });
  });

  it('the whole folder ("") is the owner\'s folder with its "/": al never reaches alice/', () => {
    const policy = renderSharePolicy({ bucketArn: BUCKET_ARN, owner: owner('al'), path: path(''), access: 'read' });
    expect(statement(policy, 'SharedObjects')?.Resource).toBe(`${BUCKET_ARN}/al/*`);
    expect(statement(policy, 'ListSharedFolderOnly')?.Condition?.StringLike).toEqual({ 's3:prefix': ['al/', 'al/*'] });
  });

  it('read grants only s3:GetObject; readwrite adds put, delete and the multipart actions, nothing more', () => {
    expect(SHARE_OBJECT_ACTIONS.read).toEqual(['s3:GetObject']);
    expect([...SHARE_OBJECT_ACTIONS.readwrite].sort()).toEqual(
      [
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:GetObject',
        's3:ListMultipartUploadParts',
        's3:PutObject',
      ].sort(),
    );
  });

  it('a share without an end has no time condition; with one, every Allow ends at it, rounded down to the second', () => {
    const open = renderSharePolicy({ bucketArn: BUCKET_ARN, owner: owner('alice'), path: path('p/'), access: 'read' });
    expect(open.Statement.every((entry) => entry.Condition?.DateLessThan === undefined)).toBe(true);
    expect(JSON.stringify(open)).not.toContain('__');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }), (endsAt) => {
        const policy = renderSharePolicy({
          bucketArn: BUCKET_ARN,
          owner: owner('alice'),
          path: path('p/'),
          access: 'readwrite',
          endsAt,
        });
        for (const entry of policy.Statement.filter((item) => item.Effect === 'Allow')) {
          const end = Date.parse(String(entry.Condition?.DateLessThan?.['aws:CurrentTime']));
          expect(end).toBeLessThanOrEqual(endsAt);
          expect(endsAt - end).toBeLessThan(1000);
          expect(end % 1000).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('assigns the path as a whole value: a path that spells a placeholder stays literal, and no placeholder is left (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(acceptedPath, fc.constantFrom('__SHARED_PREFIX__/', '__BUCKET_ARN__', '__SHARE_ACTIONS__/x')),
        fc.constantFrom<ShareAccess>('read', 'readwrite'),
        (raw, access) => {
          const shared = path(raw);
          const policy = renderSharePolicy({
            bucketArn: BUCKET_ARN,
            owner: owner('alice'),
            path: shared,
            access,
            endsAt: END,
          });
          const resource = statement(policy, 'SharedObjects')?.Resource;
          expect(resource).toBe(
            raw === '' || raw.endsWith('/') ? `${BUCKET_ARN}/alice/${raw}*` : `${BUCKET_ARN}/alice/${raw}`,
          );
          expect(sharedPrefix(owner('alice'), shared)).toBe(`alice/${raw}`);
          const withoutPath = JSON.stringify(policy).split(JSON.stringify(raw).slice(1, -1)).join('');
          expect(raw === '' || !withoutPath.includes('__')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an unvalidated owner', { owner: 'Al*ce', path: 'p/', access: 'read' }],
    ['an unvalidated path', { owner: 'alice', path: '../bob/', access: 'read' }],
    ['an unknown access', { owner: 'alice', path: 'p/', access: 'admin' }],
  ])('refuses %s (the last stop before a policy)', (_what, input) => {
    expect(() =>
      renderSharePolicy({
        bucketArn: BUCKET_ARN,
        ...(input as { owner: Username; path: SharePath; access: ShareAccess }),
      }),
    ).toThrow(TypeError);
  });
});

/** The longest name S3 allows for a bucket, in the partition with the longest name. */
const WORST_BUCKET_ARN = bucketArn('b'.repeat(63), 'aws-us-gov');
const WORST_OWNER = owner(`o${'0'.repeat(USERNAME_MAX_LENGTH - 2)}o`);
const WORST_GRANTEE = `g${'1'.repeat(USERNAME_MAX_LENGTH - 2)}g`;
/** A share id as the service makes them: 24 random bytes in base64url. */
const SHARE_ID = 'Ab-_0123456789abcdefghijklmnopqr';

/** A folder path of `character` repeated, topped up with ASCII to exactly the limit as the policy counts it. */
function folderAtLimit(character: string): string {
  const cost = policyBytes(character);
  const count = Math.floor((SHARE_PATH_MAX_BYTES - 1) / cost);
  return `${character.repeat(count)}${'a'.repeat(SHARE_PATH_MAX_BYTES - 1 - count * cost)}/`;
}

describe('the worst-case session policy fits AssumeRole (2,048 characters and the packed size, four session tags)', () => {
  const sizes: string[] = [];
  afterAll(() => console.log(`share session policy, worst cases: ${sizes.join('; ')}`));

  it.each([
    ['1-byte (ASCII)', 'a'],
    ['2-byte, in Latin-1 (é)', '\u00E9'],
    ['2-byte, beyond Latin-1 (ж)', '\u0436'],
    ['3-byte (写)', '\u5199'],
    ['4-byte (😀)', '\u{1F600}'],
  ])('a folder path at the limit in %s characters, read-write, expiring', (what, character) => {
    const shared = path(folderAtLimit(character));
    expect(policyBytes(shared)).toBe(SHARE_PATH_MAX_BYTES);
    const text = serialiseSessionPolicy(
      renderSharePolicy({
        bucketArn: WORST_BUCKET_ARN,
        owner: WORST_OWNER,
        path: shared,
        access: 'readwrite',
        endsAt: END,
      }),
    );
    expect(text.length).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(2048);
    // The sandbox STS validates exactly as AWS documents: length, character pattern, JSON, packed size.
    const { session, packedPercent } = assumeRole(
      assumeRoleParams(WORST_GRANTEE, text, SHARE_ID),
      'caller',
      Date.now(),
    );
    expect(packedPercent).toBeLessThanOrEqual(100);
    expect(JSON.parse(session.sessionPolicy as string)).toEqual(
      renderSharePolicy({
        bucketArn: WORST_BUCKET_ARN,
        owner: WORST_OWNER,
        path: shared,
        access: 'readwrite',
        endsAt: END,
      }),
    );
    sizes.push(`${what}: ${text.length} characters, packed ${packedPercent}%`);
  });

  it('any accepted path, owner and access: the policy is ASCII, reads back as rendered, and AssumeRole accepts it (property)', () => {
    const name = fc
      .string({ unit: fc.constantFrom(...'abz09'.split('')), minLength: 2, maxLength: USERNAME_MAX_LENGTH })
      .map(owner);
    fc.assert(
      fc.property(
        acceptedPath,
        name,
        fc.constantFrom<ShareAccess>('read', 'readwrite'),
        fc.boolean(),
        (raw, who, access, ends) => {
          const input = {
            bucketArn: WORST_BUCKET_ARN,
            owner: who,
            path: path(raw),
            access,
            ...(ends ? { endsAt: END } : {}),
          };
          const text = serialiseSessionPolicy(renderSharePolicy(input));
          expect(text).toMatch(/^[\u0020-\u007E]+$/);
          expect(JSON.parse(text)).toEqual(renderSharePolicy(input));
          expect(() => assumeRole(assumeRoleParams(WORST_GRANTEE, text, SHARE_ID), 'caller', Date.now())).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('negative control: the same policy as raw UTF-8 JSON is refused by AssumeRole for a path beyond Latin-1 (why it is sent escaped)', () => {
    const policy = renderSharePolicy({
      bucketArn: BUCKET_ARN,
      owner: owner('alice'),
      path: path('写真/'),
      access: 'read',
    });
    const raw = JSON.stringify(policy);
    expect(() => assumeRole(assumeRoleParams('bob', raw, SHARE_ID), 'caller', Date.now())).toThrow(
      expect.objectContaining({ code: 'ValidationError' }) as unknown as StsError,
    );
    expect(() =>
      assumeRole(assumeRoleParams('bob', serialiseSessionPolicy(policy), SHARE_ID), 'caller', Date.now()),
    ).not.toThrow();
  });

  it('refuses to serialise a policy over 2,048 characters (PolicyTooLargeError), rather than let STS fail', () => {
    const policy = renderSharePolicy({
      bucketArn: BUCKET_ARN,
      owner: owner('alice'),
      path: path('p/'),
      access: 'read',
    });
    const padded: PolicyDocument = {
      ...policy,
      Statement: [...policy.Statement, { ...policy.Statement[0], Sid: 'x'.repeat(2048) } as PolicyStatement],
    };
    expect(() => serialiseSessionPolicy(padded)).toThrow(PolicyTooLargeError);
  });
});
