/**
 * Production runs the AWS SDK the tests ran: every function's bundle, as `cdk synth` builds
 * it, carries the SDK clients of node_modules (package-lock.json's versions) inside, and
 * requires no `@aws-sdk/*` module from the Lambda runtime.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { ROUTES } from '../../lambda/contract/routes';
import { synthesiseTvm, type SynthesisedTvm } from './synth';

process.env.CDK_VALIDATION = 'false';

const installedVersion = (name: string): string =>
  (
    JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/**
 * The SDK asks for the CRT signer only inside a try/catch, for SigV4a, which the TVM never
 * uses; it is not installed here, so the tests ran without it, as production does.
 */
const OPTIONAL_CRT_SIGNER = '@aws-sdk/signature-v4-crt';

it('the optional CRT signer is not installed, so tests and production both run without it', () => {
  expect(() => require.resolve(OPTIONAL_CRT_SIGNER)).toThrow();
});

let tvm: SynthesisedTvm;
beforeAll(() => {
  tvm = synthesiseTvm();
}, 120_000);

/** The bundle cdk synth wrote for a route's function (its asset folder is named after the S3 key's hash). */
function bundleOf(routeName: string): string {
  const fn =
    routeName === 'deletionWorker'
      ? tvm.stack.deletionWorker.function
      : tvm.stack.api.functions.get(routeName as never);
  if (!fn) throw new Error(`no function for ${routeName}`);
  const code = tvm.json.Resources[tvm.stack.getLogicalId(fn.node.defaultChild as CfnElement)]?.Properties?.Code as {
    S3Key: string;
  };
  return readFileSync(path.join(tvm.app.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
}

describe.each([...ROUTES.map((route) => route.name), 'deletionWorker'])('the %s bundle', (name) => {
  it('requires no @aws-sdk module from the runtime (but the optional CRT signer, absent in tests too) and carries the installed DynamoDB client inside', () => {
    const bundle = bundleOf(name);
    const required = new Set([...bundle.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((match) => match[1]));
    expect([...required].filter((module) => module !== OPTIONAL_CRT_SIGNER)).toEqual([]);
    expect(bundle).toContain(`"${installedVersion('@aws-sdk/client-dynamodb')}"`);
  });
});

it('the bundles that vend credentials carry the installed STS client inside', () => {
  for (const route of ROUTES.filter((candidate) => candidate.vendsCredentials)) {
    expect([route.name, bundleOf(route.name).includes(`"${installedVersion('@aws-sdk/client-sts')}"`)]).toEqual([
      route.name,
      true,
    ]);
  }
});

it('the deletion worker carries the IAM and S3 operations it calls inside; token carries none of them', () => {
  // The SDK names each operation's shapes in strings ("PutRolePolicyRequest", ...), which minifying keeps.
  const commands = ['PutRolePolicy', 'ListObjectVersions', 'DeleteObjects'];
  expect(commands.filter((command) => !bundleOf('deletionWorker').includes(command))).toEqual([]);
  expect(commands.filter((command) => bundleOf('token').includes(command))).toEqual([]);
});

it('only the functions that verify ID tokens carry jose (the sign-in, linking, and the step-ups that take one)', () => {
  // A code string of jose's key-set lookup, which minifying keeps.
  const verifying = ROUTES.filter((route) => bundleOf(route.name).includes('ERR_JWKS_NO_MATCHING_KEY')).map(
    (route) => route.name,
  );
  // POST /password and DELETE /account: an account without a password proves itself with an ID token.
  expect(verifying.sort()).toEqual(['accountDelete', 'identityLink', 'identityUnlink', 'loginOidc', 'password']);
});
