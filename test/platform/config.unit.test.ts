import { loadConfig, requireCutOffWorker } from '../../lambda/platform/config';
import { ConfigurationError } from '../../lambda/platform/errors';

const BASE = {
  TABLE_NAME: 'tvm-users',
  BUCKET_NAME: 'tvm-files',
  VENDING_ROLE_ARN: 'arn:aws:iam::123456789012:role/tvm-vending',
  AWS_REGION: 'eu-west-1',
} as const;

function configError(env: Record<string, string | undefined>): ConfigurationError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it.each(['TABLE_NAME', 'BUCKET_NAME', 'VENDING_ROLE_ARN', 'AWS_REGION'] as const)(
    'fails loudly naming %s when it is missing or blank',
    (name) => {
      expect(configError({ ...BASE, [name]: undefined }).message).toContain(name);
      expect(configError({ ...BASE, [name]: '  ' }).message).toContain(name);
    },
  );

  it('applies the documented defaults: BCRYPT_COST 12, SESSION_DAYS 30, SESSION_IDLE_DAYS 14, MAX_SESSIONS 50, PASSWORD_MIN_CHARACTERS 8, CREDENTIAL_SECONDS 3600, LOCKOUT_THRESHOLD 5, LOCKOUT_MINUTES 15, AUDIT_RETENTION_DAYS 90, ALLOWED_ORIGINS *, OIDC_PROVIDERS none, VENDS_PER_SESSION_PER_MINUTE 6, VENDS_PER_USER_PER_MINUTE 30, DEFAULT_QUOTA_BYTES 0 (no quota), REGISTRATION open, PASSKEYS true', () => {
    expect(loadConfig(BASE)).toEqual({
      tableName: 'tvm-users',
      bucketName: 'tvm-files',
      vendingRoleArn: BASE.VENDING_ROLE_ARN,
      region: 'eu-west-1',
      partition: 'aws',
      bcryptCost: 12,
      sessionDays: 30,
      sessionIdleDays: 14,
      maxSessions: 50,
      passwordMinCharacters: 8,
      credentialSeconds: 3600,
      lockoutThreshold: 5,
      lockoutMinutes: 15,
      allowedOrigins: ['*'],
      auditRetentionDays: 90,
      passkeyRpId: 'localhost',
      passkeyOrigins: ['http://localhost:3000'],
      passkeys: true,
      oidcProviders: [],
      vendsPerSessionPerMinute: 6,
      vendsPerUserPerMinute: 30,
      defaultQuotaBytes: 0,
      registration: 'open',
    });
  });

  it('reads OIDC_PROVIDERS as a JSON array, trustProviderMfa false unless given, and refuses what the rule forbids', () => {
    const google = {
      name: 'google',
      issuer: 'https://accounts.google.com',
      audiences: ['app.apps.googleusercontent.com'],
    };
    const local = { name: 'dev', issuer: 'http://127.0.0.1:3002', audiences: ['tvm-web'], trustProviderMfa: true };
    expect(loadConfig({ ...BASE, OIDC_PROVIDERS: JSON.stringify([google, local]) }).oidcProviders).toEqual([
      { ...google, trustProviderMfa: false },
      local,
    ]);
    for (const providers of [
      'not json',
      '{"name":"google"}',
      JSON.stringify([{ ...google, issuer: 'http://accounts.google.com' }]),
      JSON.stringify([{ ...google, issuer: 'http://localhost:3002' }]),
      JSON.stringify([{ ...google, audiences: [] }]),
      JSON.stringify([{ ...google, name: 'Google!' }]),
      JSON.stringify([{ ...google, trustProviderMfa: 'yes' }]),
      JSON.stringify([{ ...google, clientSecret: 'x' }]),
      JSON.stringify([google, google]),
    ]) {
      expect(configError({ ...BASE, OIDC_PROVIDERS: providers }).message).toContain('OIDC_PROVIDERS');
    }
  });

  it('refuses a passkey relying-party id that is an IP address, and "*" as a passkey origin', () => {
    expect(configError({ ...BASE, WEBAUTHN_RP_ID: '127.0.0.1' }).message).toContain('WEBAUTHN_RP_ID');
    expect(configError({ ...BASE, WEBAUTHN_ORIGINS: '*' }).message).toContain('WEBAUTHN_ORIGINS');
    expect(
      loadConfig({ ...BASE, WEBAUTHN_RP_ID: 'files.example.com', WEBAUTHN_ORIGINS: 'https://files.example.com' }),
    ).toMatchObject({
      passkeyRpId: 'files.example.com',
      passkeyOrigins: ['https://files.example.com'],
    });
  });

  it('rule 7: refuses CREDENTIAL_SECONDS 899 and 3601, accepts 900 and 3600', () => {
    expect(configError({ ...BASE, CREDENTIAL_SECONDS: '899' }).message).toContain('CREDENTIAL_SECONDS');
    expect(configError({ ...BASE, CREDENTIAL_SECONDS: '3601' }).message).toContain('CREDENTIAL_SECONDS');
    expect(loadConfig({ ...BASE, CREDENTIAL_SECONDS: '900' }).credentialSeconds).toBe(900);
    expect(loadConfig({ ...BASE, CREDENTIAL_SECONDS: '3600' }).credentialSeconds).toBe(3600);
  });

  it('rule 3: refuses BCRYPT_COST 9 and accepts 10', () => {
    expect(configError({ ...BASE, BCRYPT_COST: '9' }).message).toContain('BCRYPT_COST');
    expect(loadConfig({ ...BASE, BCRYPT_COST: '10' }).bcryptCost).toBe(10);
  });

  it.each(['abc', '12.5', '-3', '1e3', '0x10'])('refuses a non-integer value %p naming the variable', (raw) => {
    expect(configError({ ...BASE, SESSION_DAYS: raw }).message).toContain('SESSION_DAYS');
  });

  it('reads overrides of every tunable', () => {
    const config = loadConfig({
      ...BASE,
      BCRYPT_COST: '11',
      SESSION_DAYS: '7',
      SESSION_IDLE_DAYS: '3',
      MAX_SESSIONS: '5',
      PASSWORD_MIN_CHARACTERS: '15',
      CREDENTIAL_SECONDS: '1800',
      LOCKOUT_THRESHOLD: '3',
      LOCKOUT_MINUTES: '60',
      ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3000',
      S3_ENDPOINT: 'http://127.0.0.1:4569',
    });
    expect(config).toMatchObject({
      bcryptCost: 11,
      sessionDays: 7,
      sessionIdleDays: 3,
      maxSessions: 5,
      passwordMinCharacters: 15,
      credentialSeconds: 1800,
      lockoutThreshold: 3,
      lockoutMinutes: 60,
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
      s3Endpoint: 'http://127.0.0.1:4569',
    });
  });

  it('refuses PASSWORD_MIN_CHARACTERS below 8 (the floor) or above 64', () => {
    expect(configError({ ...BASE, PASSWORD_MIN_CHARACTERS: '7' }).message).toContain('PASSWORD_MIN_CHARACTERS');
    expect(configError({ ...BASE, PASSWORD_MIN_CHARACTERS: '65' }).message).toContain('PASSWORD_MIN_CHARACTERS');
  });

  it.each([
    ['aws', 'arn:aws:iam::123456789012:role/tvm-vending'],
    ['aws-cn', 'arn:aws-cn:iam::123456789012:role/tvm-vending'],
    ['aws-us-gov', 'arn:aws-us-gov:iam::123456789012:role/path/tvm-vending'],
  ])('takes the partition %s from the vending role ARN', (partition, arn) => {
    expect(loadConfig({ ...BASE, VENDING_ROLE_ARN: arn }).partition).toBe(partition);
  });

  it.each([
    'arn:aws:iam::123456789012:user/tvm',
    'arn:aws:iam::12345:role/tvm',
    'arn:aws:sts::123456789012:assumed-role/tvm/x',
    'tvm-vending',
  ])('refuses a VENDING_ROLE_ARN that is not an IAM role ARN: %s', (arn) => {
    expect(configError({ ...BASE, VENDING_ROLE_ARN: arn }).message).toContain('VENDING_ROLE_ARN');
  });

  it.each(['Tvm-Files', 'a', 'files/../x', 'my_bucket'])('refuses an invalid BUCKET_NAME %p', (bucket) => {
    expect(configError({ ...BASE, BUCKET_NAME: bucket }).message).toContain('BUCKET_NAME');
  });

  it.each(['*.example.com', 'example.com', 'https://app.example.com/path', 'ftp://x'])(
    'refuses an invalid origin %p in ALLOWED_ORIGINS',
    (origin) => {
      expect(configError({ ...BASE, ALLOWED_ORIGINS: origin }).message).toContain('ALLOWED_ORIGINS');
    },
  );

  it('reads the cut-off worker of the functions that revoke shares: a function name or ARN, refusing anything else', () => {
    expect(loadConfig(BASE).cutOffWorkerFunction).toBeUndefined();
    expect(
      loadConfig({ ...BASE, CUT_OFF_WORKER_FUNCTION: 'tvm-prod-DeletionWorkerFunction1A2B' }).cutOffWorkerFunction,
    ).toBe('tvm-prod-DeletionWorkerFunction1A2B');
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:tvm-worker';
    expect(loadConfig({ ...BASE, CUT_OFF_WORKER_FUNCTION: arn }).cutOffWorkerFunction).toBe(arn);
    for (const bad of ['tvm worker', 'arn:aws:iam::123456789012:role/x', 'x'.repeat(65)]) {
      expect(configError({ ...BASE, CUT_OFF_WORKER_FUNCTION: bad }).message).toContain('CUT_OFF_WORKER_FUNCTION');
    }
  });

  it('fails loudly, naming CUT_OFF_WORKER_FUNCTION, where a function that revokes shares has no worker', () => {
    expect(() => requireCutOffWorker(loadConfig(BASE))).toThrow(
      new ConfigurationError('Missing required environment variable CUT_OFF_WORKER_FUNCTION.'),
    );
    expect(requireCutOffWorker(loadConfig({ ...BASE, CUT_OFF_WORKER_FUNCTION: 'tvm-worker' }))).toBe('tvm-worker');
  });
});
