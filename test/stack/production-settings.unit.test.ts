/**
 * A stage other than dev never gets the sandbox's passkey relying party: passkeys are off there
 * until the operator names a real one (asking for them anyway stops the synth with the setting
 * to fix), and the synth warns about that and about allowedOrigins "*".
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import fc from 'fast-check';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { InvalidSettingError, resolveSettings } from '../../lib/settings';
import { synthesiseTvm } from './synth';

process.env.CDK_VALIDATION = 'false';

const REAL = { passkeyRpId: 'files.example.com', passkeyOrigins: 'https://files.example.com' };
const deployedStage = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((stage) => stage !== 'dev');

it('turns passkeys off in every stage but dev while the relying party is the sandbox’s, and on with a real one', () => {
  fc.assert(
    fc.property(deployedStage, fc.boolean(), (stage, httpOrigin) => {
      const sandboxLike = httpOrigin
        ? { passkeyRpId: 'files.example.com', passkeyOrigins: 'http://localhost:3000' }
        : { passkeyRpId: 'localhost' };
      expect(resolveSettings({ stage, ...sandboxLike }).passkeys).toBe(false);
      expect(resolveSettings({ stage, ...REAL }).passkeys).toBe(true);
    }),
  );
  expect(resolveSettings({ stage: 'dev' }).passkeys).toBe(true);
  expect(resolveSettings({}).passkeys).toBe(false);
});

it('stops the synth when passkeys are asked for outside dev without a real relying party, naming the setting and how to set it', () => {
  expect(() => resolveSettings({ stage: 'prod', passkeys: 'true' })).toThrow(InvalidSettingError);
  expect(() => resolveSettings({ stage: 'prod', passkeys: 'true' })).toThrow(
    /Invalid TVM setting "passkeyRpId".*-c passkeyRpId=files\.example\.com -c passkeyOrigins=https:\/\/files\.example\.com.*TVM_PASSKEY_RP_ID/,
  );
  expect(resolveSettings({ stage: 'prod', passkeys: 'false' }).passkeys).toBe(false);
});

describe('the synth with no context (stage prod, the defaults)', () => {
  const tvm = () => synthesiseTvm({ bundle: false });
  let annotations: Annotations;
  let functionPasskeys: unknown[];
  beforeAll(() => {
    const synthesised = tvm();
    annotations = Annotations.fromStack(synthesised.stack);
    functionPasskeys = Object.values(synthesised.json.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map(
        (resource) =>
          (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
            ?.PASSKEYS,
      )
      .filter((value) => value !== undefined);
  }, 60_000);

  it('works, and gives every function PASSKEYS=false', () => {
    expect(functionPasskeys.length).toBeGreaterThan(10);
    expect(new Set(functionPasskeys)).toEqual(new Set(['false']));
  });

  it('warns that passkeys are off and how to turn them on', () => {
    expect(
      annotations.findWarning('*', Match.stringLikeRegexp('Passkeys are off in stage prod.*-c passkeyRpId=')),
    ).toHaveLength(1);
  });

  it('warns that allowedOrigins "*" lets any web page call the API and the bucket', () => {
    expect(
      annotations.findWarning(
        '*',
        Match.stringLikeRegexp('allowedOrigins is \\* in stage prod: any web page may call'),
      ),
    ).toHaveLength(1);
  });
});
