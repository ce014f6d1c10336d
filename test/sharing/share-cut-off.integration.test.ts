/**
 * The API functions' share cut-off (lambda/adapters/share-cut-off.ts) and the share entries of
 * the revocation store, against dynalite: one entry per share id in the REVOCATIONS partition,
 * pending until the worker marks it applied, a later cut-off never replaced by an earlier one,
 * and the worker asked with an asynchronous Invoke of its function; a failed Invoke is logged
 * and loses nothing (the entries stay pending for the schedule).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { InvokeCommand } from '@aws-sdk/client-lambda';
import { randomBytes } from 'node:crypto';
import { documentClient } from '../../lambda/adapters/dynamo/helpers';
import { KEYS } from '../../lambda/adapters/dynamo/table-layout';
import { CUT_OFF_WORKER_EVENT, createShareCutOff, recordShareCutOffs } from '../../lambda/adapters/share-cut-off';
import { cutOffInstant, revocationExpiresAt } from '../../lambda/credentials/revocation';
import { DynamoRevocationStore } from '../../lambda/operator/revocation-store';
import type { DomainLog } from '../../lambda/platform/audit';
import { ConfigurationError } from '../../lambda/platform/errors';
import { startDynalite, type TestDynamoDb } from '../support/dynalite';

const TABLE = 'tvm-share-cut-off';
const WORKER = 'tvm-dev-DeletionWorkerFunction';
let dynamo: TestDynamoDb;
let store: DynamoRevocationStore;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  store = new DynamoRevocationStore(dynamo.client, TABLE);
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  for (const entry of await store.listShares()) await store.removeShare(entry);
});

const shareId = () => randomBytes(24).toString('base64url');

/** A Lambda client stand-in that records each command, or fails as a throttled Lambda would. */
function fakeLambda(fail = false) {
  const sent: InvokeCommand[] = [];
  return {
    sent,
    send: async (command: InvokeCommand) => {
      sent.push(command);
      if (fail) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return { StatusCode: 202 };
    },
  };
}

function recordingLog() {
  const warnings: { message: string; attributes?: Record<string, unknown> }[] = [];
  const log: DomainLog = {
    info: () => undefined,
    warn: (message, attributes) => void warnings.push({ message, ...(attributes ? { attributes } : {}) }),
    error: () => undefined,
  };
  return { log, warnings };
}

const config = { tableName: TABLE, region: 'eu-west-1', cutOffWorkerFunction: WORKER };

describe('createShareCutOff', () => {
  it('records one pending entry per share in the REVOCATIONS partition, then invokes the worker asynchronously', async () => {
    const lambda = fakeLambda();
    const { log, warnings } = recordingLog();
    const cutOff = createShareCutOff({ config, dynamo: dynamo.client, log, lambda, cutOffMarginMs: 11_000 });
    const [first, second] = [shareId(), shareId()];
    const before = await store.serverDate();
    await cutOff.cutOff([first, second, first]);

    const entries = await store.listShares();
    expect(entries.map((entry) => entry.shareId).sort()).toEqual([first, second].sort());
    for (const entry of entries) {
      expect(entry.pending).toBe(true);
      expect(entry.cutOffAt).toBeGreaterThanOrEqual(cutOffInstant(before, 11_000));
      expect(entry.cutOffAt % 1000).toBe(0);
    }
    const { Item } = await documentClient(dynamo.client).send(
      new GetCommand({ TableName: TABLE, Key: KEYS.shareRevocation(first) }),
    );
    expect(Item).toMatchObject({ pk: 'REVOCATIONS', sk: `SHARE#${first}`, shareId: first, pending: true });
    expect(Item?.expiresAt).toBe(revocationExpiresAt(Item?.cutOffAt as number, 3600));

    expect(lambda.sent).toHaveLength(1);
    const input = lambda.sent[0]!.input;
    expect(input.FunctionName).toBe(WORKER);
    expect(input.InvocationType).toBe('Event');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(CUT_OFF_WORKER_EVENT);
    expect(warnings).toEqual([]);
  });

  it('keeps the entries and logs a warning (no AWS text, no ids) when the worker cannot be invoked', async () => {
    const lambda = fakeLambda(true);
    const { log, warnings } = recordingLog();
    const cutOff = createShareCutOff({ config, dynamo: dynamo.client, log, lambda });
    const id = shareId();
    await cutOff.cutOff([id]);
    expect((await store.listShares()).map((entry) => [entry.shareId, entry.pending])).toEqual([[id, true]]);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain('Rate exceeded');
    expect(warnings[0]!.attributes).toMatchObject({ error: { name: 'TooManyRequestsException' } });
  });

  it('does nothing, and invokes nothing, for no shares', async () => {
    const lambda = fakeLambda();
    const cutOff = createShareCutOff({ config, dynamo: dynamo.client, log: recordingLog().log, lambda });
    await cutOff.cutOff([]);
    expect(await store.listShares()).toEqual([]);
    expect(lambda.sent).toEqual([]);
  });

  it('fails at construction, naming the variable, on a function without the worker name', () => {
    expect(() =>
      createShareCutOff({
        config: { tableName: TABLE, region: 'eu-west-1' },
        dynamo: dynamo.client,
        log: recordingLog().log,
        lambda: fakeLambda(),
      }),
    ).toThrow(new ConfigurationError('Missing required environment variable CUT_OFF_WORKER_FUNCTION.'));
  });

  it('refuses an id that is not a share id before writing anything', async () => {
    const cutOff = createShareCutOff({ config, dynamo: dynamo.client, log: recordingLog().log, lambda: fakeLambda() });
    await expect(cutOff.cutOff([shareId(), 'x*'])).rejects.toThrow(TypeError);
    expect(await store.listShares()).toEqual([]);
  });
});

describe('share entries in the revocation store', () => {
  it('never moves a cut-off earlier, and marks applied only the cut-off the worker rendered', async () => {
    const id = shareId();
    const timing = { cutOffMarginMs: 0, maxCredentialSeconds: 3600 };
    const first = (await recordShareCutOffs(store, [id], timing))!;
    await store.recordShare({ shareId: id, cutOffAt: first - 60_000 }, first + 3_600_000);
    expect((await store.listShares())[0]).toEqual({ shareId: id, cutOffAt: first, pending: true });

    // The worker rendered `first`; meanwhile a later cut-off arrived: it stays pending.
    await store.recordShare({ shareId: id, cutOffAt: first + 5_000 }, first + 3_605_000);
    await store.markShareApplied({ shareId: id, cutOffAt: first });
    expect((await store.listShares())[0]).toEqual({ shareId: id, cutOffAt: first + 5_000, pending: true });
    await store.markShareApplied({ shareId: id, cutOffAt: first + 5_000 });
    expect((await store.listShares())[0]).toEqual({ shareId: id, cutOffAt: first + 5_000, pending: false });

    // Pruning removes only the entry it saw.
    await store.removeShare({ shareId: id, cutOffAt: first });
    expect(await store.listShares()).toHaveLength(1);
    await store.removeShare({ shareId: id, cutOffAt: first + 5_000 });
    expect(await store.listShares()).toEqual([]);
  });

  it("keeps share entries apart from users' entries", async () => {
    await recordShareCutOffs(store, [shareId()], { cutOffMarginMs: 0, maxCredentialSeconds: 3600 });
    expect(await store.list()).toEqual([]);
    expect(await store.listShares()).toHaveLength(1);
  });
});
