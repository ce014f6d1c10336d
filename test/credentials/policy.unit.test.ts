import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { BUCKET_ARN_PLACEHOLDER, USERNAME_PLACEHOLDER, type PolicyDocument } from '../../policies';
import { PolicyTooLargeError } from '../../lambda/platform/errors';
import {
  SESSION_POLICY_MAX_CHARACTERS,
  bucketArn,
  renderSessionPolicy,
  renderVendingRolePolicy,
  serialiseSessionPolicy,
  userPrefix,
} from '../../lambda/credentials/policy';
import { parseUsername, type Username } from '../../lambda/accounts/username';

const BUCKET = 'bucket';
const BUCKET_ARN = bucketArn(BUCKET);
const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/tvm-vending`;

function templateFile(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'policies', name), 'utf8'));
}

/** The test's own template filler: placeholders are whole strings or path segments of strings. */
function fill(value: unknown, replacements: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return Object.entries(replacements).reduce((text, [from, to]) => text.split(from).join(to), value);
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, replacements));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, replacements)]));
  }
  return value;
}

function statement(policy: PolicyDocument, sid: string) {
  const found = policy.Statement.find((candidate) => candidate.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
}

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** Evaluates one request with a real IAM engine: the vending role's policy AND the user's session policy. */
async function evaluate(
  username: Username,
  action: string,
  resource: string,
  contextVariables: Record<string, string> = {},
): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/tvm-vending/${username}`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables,
      },
      identityPolicies: [{ name: 'vending-role', policy: renderVendingRolePolicy(BUCKET_ARN) }],
      sessionPolicy: renderSessionPolicy(BUCKET_ARN, username),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult as Decision;
}

describe('rule 2: the prefix always ends in "/", so "al" never reaches "alice/"', () => {
  const al = parseUsername('al');
  const policy = renderSessionPolicy(BUCKET_ARN, al);

  it("rule 2: al's object Resource is exactly arn:aws:s3:::bucket/al/*", () => {
    expect(statement(policy, 'OwnFolderObjects').Resource).toBe('arn:aws:s3:::bucket/al/*');
  });

  it('rule 2: al\'s ListBucket s3:prefix values are exactly "al/" and "al/*" and all end in "/" before any wildcard', () => {
    const list = statement(policy, 'ListOwnFolderOnly');
    expect(list.Resource).toBe('arn:aws:s3:::bucket');
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['al/', 'al/*'] } });
    expect(userPrefix(al)).toBe('al/');
  });

  it("rule 2: al's credentials cannot get, put or delete bucket/alice/x (IAM engine: role policy AND session policy)", async () => {
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
      await expect(evaluate(al, action, 'arn:aws:s3:::bucket/alice/x')).resolves.not.toBe('Allowed');
      await expect(evaluate(al, action, 'arn:aws:s3:::bucket/al/x')).resolves.toBe('Allowed');
    }
  });

  it('rule 2: al\'s credentials cannot list with prefix "alice/" nor "al" nor "" (IAM engine)', async () => {
    for (const prefix of ['alice/', 'alice', 'al', '', 'al*', 'alice/x/']) {
      await expect(evaluate(al, 's3:ListBucket', BUCKET_ARN, { 's3:prefix': prefix })).resolves.not.toBe('Allowed');
    }
    await expect(evaluate(al, 's3:ListBucket', BUCKET_ARN)).resolves.not.toBe('Allowed');
    await expect(evaluate(al, 's3:ListBucket', BUCKET_ARN, { 's3:prefix': 'al/' })).resolves.toBe('Allowed');
    await expect(evaluate(al, 's3:ListBucket', BUCKET_ARN, { 's3:prefix': 'al/photos/' })).resolves.toBe('Allowed');
  });

  it('rule 2: no user reaches another bucket, nor STS, IAM or DynamoDB (IAM engine)', async () => {
    await expect(evaluate(al, 's3:GetObject', 'arn:aws:s3:::other-bucket/al/x')).resolves.not.toBe('Allowed');
    await expect(evaluate(al, 'sts:AssumeRole', ROLE_ARN)).resolves.not.toBe('Allowed');
    await expect(
      evaluate(al, 'dynamodb:GetItem', `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/tvm-users`),
    ).resolves.not.toBe('Allowed');
  });

  it("rule 2 (property): for any two distinct usernames, one's credentials never reach the other's folder, even when one name is a prefix of the other", async () => {
    const part = fc.string({ unit: fc.constantFrom(...'abz09'.split('')), minLength: 1, maxLength: 4 });
    const name = fc
      .tuple(part, fc.array(fc.tuple(fc.constantFrom('.', '_', '-', ''), part), { maxLength: 3 }))
      .map(([head, rest]) => head + rest.map(([sep, p]) => sep + p).join(''))
      .filter((value) => value.length >= 2);
    await fc.assert(
      fc.asyncProperty(name, name, async (a, b) => {
        fc.pre(a !== b);
        const owner = parseUsername(a);
        expect(await evaluate(owner, 's3:GetObject', `${BUCKET_ARN}/${b}/file`)).not.toBe('Allowed');
        expect(await evaluate(owner, 's3:ListBucket', BUCKET_ARN, { 's3:prefix': `${b}/` })).not.toBe('Allowed');
        expect(await evaluate(owner, 's3:GetObject', `${BUCKET_ARN}/${a}/file`)).toBe('Allowed');
      }),
      { numRuns: 60 },
    );
  });
});

describe('policy rendering (rule 2: policies are objects, never string-replaced JSON)', () => {
  it('the session policy equals policies/session-policy.json with both placeholders filled', () => {
    const username = parseUsername('alice');
    expect(renderSessionPolicy(BUCKET_ARN, username)).toEqual(
      fill(templateFile('session-policy.json'), {
        [BUCKET_ARN_PLACEHOLDER]: BUCKET_ARN,
        [USERNAME_PLACEHOLDER]: username,
      }),
    );
  });

  it('the vending role policy equals policies/vending-role-policy.json with the bucket ARN filled: bucket/* objects and ListBucket only', () => {
    const rendered = renderVendingRolePolicy(BUCKET_ARN);
    expect(rendered).toEqual(fill(templateFile('vending-role-policy.json'), { [BUCKET_ARN_PLACEHOLDER]: BUCKET_ARN }));
    expect(rendered.Statement.map((s) => [s.Effect, s.Resource])).toEqual([
      ['Allow', 'arn:aws:s3:::bucket/*'],
      ['Allow', 'arn:aws:s3:::bucket'],
    ]);
    expect(JSON.stringify(rendered)).not.toContain('__');
  });

  it('no placeholder survives rendering, and the template files do contain them (so the check is not vacuous)', () => {
    const text = JSON.stringify(renderSessionPolicy(BUCKET_ARN, parseUsername('alice')));
    expect(text).not.toContain(USERNAME_PLACEHOLDER);
    expect(text).not.toContain(BUCKET_ARN_PLACEHOLDER);
    expect(text).not.toMatch(/__[A-Z_]+__/);
    const template = JSON.stringify(templateFile('session-policy.json'));
    expect(template).toContain(USERNAME_PLACEHOLDER);
    expect(template).toContain(BUCKET_ARN_PLACEHOLDER);
  });

  it('renders a username with every allowed punctuation ("a.b_c-d") as plain string values in an object', () => {
    const username = parseUsername('a.b_c-d');
    const policy = renderSessionPolicy(BUCKET_ARN, username);
    expect(typeof policy).toBe('object');
    expect(statement(policy, 'OwnFolderObjects').Resource).toBe('arn:aws:s3:::bucket/a.b_c-d/*');
    expect(statement(policy, 'ListOwnFolderOnly').Condition).toEqual({
      StringLike: { 's3:prefix': ['a.b_c-d/', 'a.b_c-d/*'] },
    });
    expect(JSON.parse(serialiseSessionPolicy(policy))).toEqual(policy);
  });

  it('does not modify the template it renders from (two users render independently)', () => {
    const before = JSON.stringify(templateFile('session-policy.json'));
    const alice = renderSessionPolicy(BUCKET_ARN, parseUsername('alice'));
    const bob = renderSessionPolicy(BUCKET_ARN, parseUsername('bob'));
    expect(statement(alice, 'OwnFolderObjects').Resource).toBe('arn:aws:s3:::bucket/alice/*');
    expect(statement(bob, 'OwnFolderObjects').Resource).toBe('arn:aws:s3:::bucket/bob/*');
    expect(renderSessionPolicy(BUCKET_ARN, parseUsername('alice'))).toEqual(alice);
    expect(JSON.stringify(templateFile('session-policy.json'))).toBe(before);
  });

  it.each(['*', '${aws:username}', 'al/ice', 'Alice', 'a', '', 'a..b'])(
    'rule 1: renderSessionPolicy refuses an unvalidated username %p even if cast to Username',
    (raw) => {
      expect(() => renderSessionPolicy(BUCKET_ARN, raw as Username)).toThrow(TypeError);
    },
  );

  it('uses the partition in bucket ARNs (aws-cn, aws-us-gov)', () => {
    expect(bucketArn('files', 'aws-cn')).toBe('arn:aws-cn:s3:::files');
    expect(bucketArn('files')).toBe('arn:aws:s3:::files');
    const policy = renderSessionPolicy(bucketArn('files', 'aws-us-gov'), parseUsername('alice'));
    expect(statement(policy, 'OwnFolderObjects').Resource).toBe('arn:aws-us-gov:s3:::files/alice/*');
  });
});

describe('session policy size (AssumeRole accepts at most 2,048 characters)', () => {
  const longest = parseUsername('a'.repeat(64));
  const longestBucket = `b${'x'.repeat(61)}c`; // 63 characters, S3's maximum
  const size = serialiseSessionPolicy(renderSessionPolicy(bucketArn(longestBucket, 'aws-us-gov'), longest)).length;

  it(`accepts the real policy for a 64-character username and a 63-character bucket in aws-us-gov (${size} characters < 2048)`, () => {
    expect(size).toBeLessThan(SESSION_POLICY_MAX_CHARACTERS);
  });

  it('serialises compactly, without whitespace between tokens', () => {
    const text = serialiseSessionPolicy(renderSessionPolicy(BUCKET_ARN, parseUsername('alice')));
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('throws PolicyTooLargeError for a policy over 2,048 characters, naming its size', () => {
    const base = renderSessionPolicy(BUCKET_ARN, parseUsername('alice'));
    const big: PolicyDocument = {
      ...base,
      Statement: [...base.Statement, { Effect: 'Deny', Action: 's3:*', Resource: `${BUCKET_ARN}/${'x'.repeat(2048)}` }],
    };
    let thrown: unknown;
    try {
      serialiseSessionPolicy(big);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyTooLargeError);
    expect((thrown as PolicyTooLargeError).size).toBe(JSON.stringify(big).length);
    expect((thrown as PolicyTooLargeError).limit).toBe(2048);
  });

  it('accepts exactly 2,048 characters and refuses 2,049', () => {
    const base = renderSessionPolicy(BUCKET_ARN, parseUsername('alice'));
    const padded = (extra: number): PolicyDocument => {
      const withSid = (sid: string): PolicyDocument => ({
        ...base,
        Statement: [{ ...base.Statement[0]!, Sid: sid }, ...base.Statement.slice(1)],
      });
      const current = JSON.stringify(withSid('')).length;
      return withSid('x'.repeat(extra - current));
    };
    expect(serialiseSessionPolicy(padded(2048))).toHaveLength(2048);
    expect(() => serialiseSessionPolicy(padded(2049))).toThrow(PolicyTooLargeError);
  });
});
