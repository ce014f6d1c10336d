import { startLocalQueue, type LocalQueue, type SqsEvent } from '../../local/sqs/queue';

const queues: LocalQueue[] = [];
afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.stop(0);
});

function queue(consume: (event: SqsEvent) => Promise<unknown>, extra: { maxReceiveCount?: number } = {}) {
  const started = startLocalQueue({
    name: 'test-queue',
    consume: consume as never,
    batchWindowMs: 1,
    visibilityTimeoutMs: 5,
    log: () => undefined,
    ...extra,
  });
  queues.push(started);
  return started;
}

describe('local SQS queue', () => {
  it("hands messages over as Lambda's SQS event, in batches of at most ten", async () => {
    const batches: SqsEvent[] = [];
    const q = queue(async (event) => {
      batches.push(event);
    });
    for (let index = 0; index < 25; index++) q.send(`m${index}`);
    await q.drained();
    expect(batches.flatMap((batch) => batch.Records.map((record) => record.body)).sort()).toEqual(
      Array.from({ length: 25 }, (_, index) => `m${index}`).sort(),
    );
    expect(Math.max(...batches.map((batch) => batch.Records.length))).toBeLessThanOrEqual(10);
    expect(batches[0]?.Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test-queue',
      attributes: { ApproximateReceiveCount: '1' },
    });
  });

  it('delivers again only the messages the consumer names as failed, then succeeds', async () => {
    const seen: string[] = [];
    let failOnce = true;
    const q = queue(async (event) => {
      seen.push(...event.Records.map((record) => `${record.body}:${record.attributes.ApproximateReceiveCount}`));
      const failures = failOnce ? event.Records.filter((record) => record.body === 'b') : [];
      failOnce = false;
      return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
    });
    q.send('a');
    q.send('b');
    await q.drained();
    expect(seen.sort()).toEqual(['a:1', 'b:1', 'b:2']);
  });

  it('moves a message that keeps failing to the dead-letter list after maxReceiveCount receives', async () => {
    const q = queue(
      async () => {
        throw new Error('always');
      },
      { maxReceiveCount: 3 },
    );
    q.send('poison');
    await q.drained();
    expect(q.deadLetters).toEqual([{ body: 'poison', receives: 3 }]);
  });
});
