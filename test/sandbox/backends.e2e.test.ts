/**
 * No way around the gate: the S3 emulator listens on no TCP port (only a Unix socket in an
 * owner-only folder); DynamoDB, STS and IAM answer only requests signed with the keys of the
 * data folder (random, owner-only, in secrets.json); a user's vended credentials get
 * AccessDenied from each, as their session policy makes AWS answer. The operator's key
 * reaches what tvm-admin --local needs, the S3 bucket through the gate included. The data
 * folder, which holds every password hash (dynamodb/) and every user's files (s3/), is made
 * owner-only on start even when others could read it.
 */
import {
  DeleteTableCommand,
  DescribeLimitsCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient, LambdaServiceException } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { ROUTES, tableItemActions } from '../../lambda/contract/routes';
import { TABLE_LAYOUT } from '../../lambda/adapters/dynamo/table-layout';
import type { SandboxManifest } from '../../local/manifest';
import { SANDBOX_VENDING_ROLE_ARN } from '../../local/names';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { readSandboxSecrets, SANDBOX_SECRETS_FILE, type LongTermKey } from '../../local/secrets';
import { register, type VendResponse } from '../support/e2e';

const PASSWORD = 'correct horse battery staple';
let dataDir: string;
let sandbox: Sandbox;
let manifest: SandboxManifest;
let alice: VendResponse;

const userCredentials = () => ({
  accessKeyId: alice.credentials.accessKeyId,
  secretAccessKey: alice.credentials.secretAccessKey,
  sessionToken: alice.credentials.sessionToken,
});

async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (
      error instanceof DynamoDBServiceException ||
      error instanceof STSServiceException ||
      error instanceof IAMServiceException
    )
      return error.name;
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

/** The processes whose parent is this one and whose command line contains `marker`. */
function childProcesses(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
    if (inode) inodes.add(inode);
  }
  return inodes;
}

/** Rows of a /proc/net table (tcp, tcp6, unix) that belong to the given inodes. */
function rowsFor(table: string, inodes: Set<string>, inodeColumn: number): string[][] {
  return readFileSync(`/proc/net/${table}`, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => inodes.has(fields[inodeColumn] ?? ''));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tvm-backends-'));
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir, bcryptCost: 10 });
  manifest = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxManifest;
  alice = await register(sandbox.apiUrl, 'alice', PASSWORD);
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the S3 emulator', () => {
  test('listens on no TCP port: only a Unix socket in an owner-only (0700) folder', () => {
    const [emulator, ...others] = childProcesses('--openssl-legacy-provider');
    expect(emulator).toBeDefined();
    expect(others).toEqual([]);
    const inodes = socketInodes(emulator!);
    expect([...rowsFor('tcp', inodes, 9), ...rowsFor('tcp6', inodes, 9)]).toEqual([]);
    const unixSockets = rowsFor('unix', inodes, 6)
      .map((fields) => fields[7])
      .filter((path): path is string => path !== undefined && path.startsWith('/'));
    expect(unixSockets).toHaveLength(1);
    const folder = statSync(dirname(unixSockets[0]!));
    expect(folder.mode & 0o777).toBe(0o700);
    expect(folder.uid).toBe(process.getuid?.());
  });

  test('the manifest names no emulator endpoint, only the gate', () => {
    expect(manifest.s3Endpoint).toBe(sandbox.s3Url);
    expect(JSON.stringify(manifest)).not.toMatch(/secret|S3RVER|Credentials/i);
  });
});

describe("the data folder's keys", () => {
  test('are random AKIA keys in secrets.json, readable by its owner only, and handed to the functions', () => {
    const file = join(dataDir, SANDBOX_SECRETS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { functionKey, operatorKey } = readSandboxSecrets(dataDir);
    expect(functionKey.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(operatorKey.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(functionKey.accessKeyId).not.toBe(operatorKey.accessKeyId);
    expect(sandbox.functionEnvironment.AWS_ACCESS_KEY_ID).toBe(functionKey.accessKeyId);
  });

  test('differ from one data folder to another, and a file others could read is replaced with new keys', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'tvm-backends-other-'));
    try {
      const other = await startSandbox({ port: 0, s3Port: 0, dataDir: otherDir, bcryptCost: 10, functionThreads: 1 });
      const first = readSandboxSecrets(otherDir);
      await other.stop();
      expect(first.functionKey.accessKeyId).not.toBe(readSandboxSecrets(dataDir).functionKey.accessKeyId);
      chmodSync(join(otherDir, SANDBOX_SECRETS_FILE), 0o644);
      const again = await startSandbox({ port: 0, s3Port: 0, dataDir: otherDir, bcryptCost: 10, functionThreads: 1 });
      await again.stop();
      const rotated = readSandboxSecrets(otherDir);
      expect(rotated.functionKey.accessKeyId).not.toBe(first.functionKey.accessKeyId);
      expect(rotated.operatorKey.secretAccessKey).not.toBe(first.operatorKey.secretAccessKey);
      expect(statSync(join(otherDir, SANDBOX_SECRETS_FILE)).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('DynamoDB (dynalite)', () => {
  const scan = (credentials: LongTermKey & { sessionToken?: string }) => {
    const client = new DynamoDBClient({
      endpoint: manifest.dynamoEndpoint,
      region: manifest.region,
      credentials,
      maxAttempts: 1,
    });
    return client.send(new ScanCommand({ TableName: manifest.tableName })).finally(() => client.destroy());
  };

  test("refuses a user's vended credentials with AccessDeniedException", async () => {
    expect(await errorName(scan(userCredentials()))).toBe('AccessDeniedException');
  });

  test('refuses an unknown key, a known key with a wrong secret, and an unsigned request', async () => {
    const { functionKey } = readSandboxSecrets(dataDir);
    expect(
      await errorName(
        scan({ accessKeyId: 'AKIAQSANDBOXFUNCTION', secretAccessKey: 'sandbox-function-secret-not-a-real-aws-key' }),
      ),
    ).toBe('UnrecognizedClientException');
    expect(
      await errorName(
        scan({ accessKeyId: functionKey.accessKeyId, secretAccessKey: `${functionKey.secretAccessKey}x` }),
      ),
    ).toBe('InvalidSignatureException');
    const unsigned = await fetch(manifest.dynamoEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.Scan' },
      body: JSON.stringify({ TableName: manifest.tableName }),
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.text()).toContain('MissingAuthenticationTokenException');
  });

  test("answers the operator's key for anything, and the functions' key only within their roles' grants", async () => {
    const { functionKey, operatorKey } = readSandboxSecrets(dataDir);
    expect((await scan(operatorKey)).Items?.length).toBeGreaterThan(0);
    // No function is granted Scan (lambda/contract/routes.ts), so on AWS it is AccessDenied; here too.
    expect(await errorName(scan(functionKey))).toBe('AccessDeniedException');
    const functions = new DynamoDBClient({
      endpoint: manifest.dynamoEndpoint,
      region: manifest.region,
      credentials: functionKey,
      maxAttempts: 1,
    });
    try {
      const profile = { pk: { S: 'USER#nobody-here' }, sk: { S: 'PROFILE' } };
      await expect(
        functions.send(new GetItemCommand({ TableName: manifest.tableName, Key: profile })),
      ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
      await expect(
        functions.send(new GetItemCommand({ TableName: 'another-table', Key: profile })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(functions.send(new DeleteTableCommand({ TableName: manifest.tableName }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      // Query on the sessions index, and on the table itself (the routes that list a user's shares and links).
      const byOwner = {
        KeyConditionExpression: 'sessionOwner = :owner',
        ExpressionAttributeValues: { ':owner': { S: 'USER#nobody-here' } },
      };
      await expect(
        functions.send(new QueryCommand({ TableName: manifest.tableName, IndexName: 'sessionsByOwner', ...byOwner })),
      ).resolves.toMatchObject({ Count: 0 });
      await expect(
        functions.send(
          new QueryCommand({
            TableName: manifest.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: 'USER#nobody-here' } },
          }),
        ),
      ).resolves.toMatchObject({ Count: 0 });
      await expect(
        functions.send(new QueryCommand({ TableName: manifest.tableName, IndexName: 'another-index', ...byOwner })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    } finally {
      functions.destroy();
    }
  });

  test("differential: whatever action, table or index the functions' key sends, the sandbox runs it only if their grant allows it", async () => {
    // The grant modelled here from the route table, independently of local/dynamodb/table-grant.ts.
    const granted = new Set(tableItemActions(ROUTES) as string[]);
    const allowedByModel = (action: string, table: string | undefined, index: string | undefined) =>
      table === manifest.tableName &&
      (action === 'Query'
        ? // On the table itself where a route queries a user's partition (shares, links); else the sessions index only.
          index === undefined
          ? granted.has('Query')
          : index === TABLE_LAYOUT.sessionsByOwnerIndex.name
        : granted.has(action));
    const functions = new DynamoDBClient({
      endpoint: manifest.dynamoEndpoint,
      region: manifest.region,
      credentials: readSandboxSecrets(dataDir).functionKey,
      maxAttempts: 1,
    });
    let sending: { target: string; body: string } = { target: '', body: '' };
    // Rewrites the request before it is signed: any target, any body, signed with the functions' key.
    functions.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body: string };
        request.headers['x-amz-target'] = sending.target;
        request.body = sending.body;
        request.headers['content-length'] = String(Buffer.byteLength(sending.body));
        return next(args);
      },
      { step: 'build', name: 'anyTargetAnyBody' },
    );
    const actions = [
      'GetItem',
      'BatchGetItem',
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'Query',
      'Scan',
      'BatchWriteItem',
      'TransactGetItems',
      'TransactWriteItems',
      'DescribeTable',
      'DeleteTable',
      'UpdateTable',
      'CreateTable',
      'ListTables',
    ];
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...actions),
          fc.constantFrom(manifest.tableName, 'tvm-other-table', undefined),
          fc.constantFrom(TABLE_LAYOUT.sessionsByOwnerIndex.name, 'another-index', undefined),
          async (action, table, index) => {
            const input =
              action === 'BatchGetItem' || action === 'BatchWriteItem'
                ? { RequestItems: table === undefined ? {} : { [table]: {} } }
                : { TableName: table, IndexName: index };
            sending = { target: `DynamoDB_20120810.${action}`, body: JSON.stringify(input) };
            const name = await functions.send(new DescribeLimitsCommand({})).then(
              () => 'answered',
              (error: unknown) => (error as Error).name,
            );
            expect({ action, table, index, refused: name === 'AccessDeniedException' }).toEqual({
              action,
              table,
              index,
              refused: !allowedByModel(action, table, index),
            });
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      functions.destroy();
    }
  });
});

describe('STS', () => {
  const assumeRole = (credentials: LongTermKey & { sessionToken?: string }) => {
    const client = new STSClient({
      endpoint: sandbox.functionEnvironment.AWS_ENDPOINT_URL_STS,
      region: manifest.region,
      credentials,
      maxAttempts: 1,
    });
    return client
      .send(new AssumeRoleCommand({ RoleArn: SANDBOX_VENDING_ROLE_ARN, RoleSessionName: 'mallory' }))
      .finally(() => client.destroy());
  };

  test("refuses AssumeRole with a user's vended credentials (AccessDenied), the old constant key and the operator's key", async () => {
    expect(await errorName(assumeRole(userCredentials()))).toBe('AccessDenied');
    expect(
      await errorName(
        assumeRole({
          accessKeyId: 'AKIAQSANDBOXFUNCTION',
          secretAccessKey: 'sandbox-function-secret-not-a-real-aws-key',
        }),
      ),
    ).toBe('InvalidClientTokenId');
    expect(await errorName(assumeRole(readSandboxSecrets(dataDir).operatorKey))).toBe('InvalidClientTokenId');
  });
});

describe('IAM', () => {
  const getRolePolicy = (credentials: LongTermKey & { sessionToken?: string }) => {
    const client = new IAMClient({
      endpoint: manifest.iamEndpoint,
      region: manifest.region,
      credentials,
      maxAttempts: 1,
    });
    return client
      .send(new GetRolePolicyCommand({ RoleName: 'tvm-vending', PolicyName: 'tvm-revoked-users' }))
      .finally(() => client.destroy());
  };

  test("refuses a user's vended credentials (AccessDenied) and the functions' key; answers the operator's", async () => {
    expect(await errorName(getRolePolicy(userCredentials()))).toBe('AccessDenied');
    expect(await errorName(getRolePolicy(readSandboxSecrets(dataDir).functionKey))).toBe('InvalidClientTokenId');
    expect(await errorName(getRolePolicy(readSandboxSecrets(dataDir).operatorKey))).toBe('NoSuchEntityException');
  });
});

describe('S3 through the gate', () => {
  test("the operator's key acts as the bucket owner (lists every folder); the functions' key (known to the gate only to read the access logs) is refused on the file bucket", async () => {
    const { functionKey, operatorKey } = readSandboxSecrets(dataDir);
    const client = (credentials: LongTermKey) =>
      new S3Client({
        endpoint: sandbox.s3Url,
        region: manifest.region,
        forcePathStyle: true,
        credentials,
        maxAttempts: 1,
      });
    const owner = client(operatorKey);
    const functions = client(functionKey);
    try {
      await expect(owner.send(new ListObjectsV2Command({ Bucket: sandbox.bucket }))).resolves.toMatchObject({
        $metadata: { httpStatusCode: 200 },
      });
      await expect(functions.send(new ListObjectsV2Command({ Bucket: sandbox.bucket }))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
    } finally {
      owner.destroy();
      functions.destroy();
    }
  });
});

describe('the data folder', () => {
  test('a data folder whose dynamodb/ and s3/ folders others can read is made owner-only on start', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tvm-perms-'));
    const readableDir = join(root, 'data');
    for (const folder of [readableDir, join(readableDir, 'dynamodb'), join(readableDir, 's3')]) {
      mkdirSync(folder, { recursive: true });
      chmodSync(folder, 0o755);
    }
    const started = await startSandbox({
      port: 0,
      s3Port: 0,
      dataDir: readableDir,
      bcryptCost: 10,
      functionThreads: 1,
    });
    try {
      const others = (path: string) => statSync(path).mode & 0o077;
      expect({ dynamodb: others(join(readableDir, 'dynamodb')), s3: others(join(readableDir, 's3')) }).toEqual({
        dynamodb: 0,
        s3: 0,
      });
    } finally {
      await started.stop();
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Lambda', () => {
  const invoke = (credentials: LongTermKey & { sessionToken?: string }, functionName?: string) => {
    const client = new LambdaClient({
      endpoint: sandbox.functionEnvironment.AWS_ENDPOINT_URL_LAMBDA,
      region: manifest.region,
      credentials,
      maxAttempts: 1,
    });
    return client
      .send(
        new InvokeCommand({
          FunctionName: functionName ?? sandbox.functionEnvironment.CUT_OFF_WORKER_FUNCTION,
          InvocationType: 'Event',
        }),
      )
      .then(
        (answer) => `status ${answer.StatusCode}`,
        (error: unknown) => (error instanceof LambdaServiceException ? error.name : String(error)),
      )
      .finally(() => client.destroy());
  };

  test("runs the cut-off worker for the functions' key alone: a user's vended credentials and the operator's key are refused, as is any other function", async () => {
    const { functionKey, operatorKey } = readSandboxSecrets(dataDir);
    expect(await invoke(userCredentials())).toBe('AccessDeniedException');
    expect(await invoke(operatorKey)).toBe('UnrecognizedClientException');
    expect(await invoke(functionKey, 'tvm-login')).toBe('AccessDeniedException');
    expect(await invoke(functionKey)).toBe('status 202');
  });
});
