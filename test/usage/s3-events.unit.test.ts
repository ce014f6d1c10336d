import fc from 'fast-check';
import {
  decodeEventKey,
  encodeEventKey,
  MalformedNotificationError,
  parseNotification,
} from '../../lambda/usage/s3-events';
import { compareSequencers, parseSequencer, type Sequencer } from '../../lambda/usage/sequencer';

/** Keys as the gate accepts them: any Unicode (S3 allows up to 1,024 UTF-8 bytes), with the characters that matter here weighted in. */
const objectKey = fc
  .array(
    fc.oneof(
      fc.constantFrom('+', ' ', '%', '%2B', '/', '=', '&', '?', '#', '~', '*', "'", '(', ')', 'é', '€', '😀', '\u0000'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
    ),
    { minLength: 1, maxLength: 20 },
  )
  .map((parts) => parts.join(''));

const record = (object: Record<string, unknown>, eventName = 'ObjectCreated:Put') => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  awsRegion: 'eu-west-1',
  eventTime: '2026-12-01T10:00:00.000Z',
  eventName,
  s3: { s3SchemaVersion: '1.0', bucket: { name: 'tvm-files', arn: 'arn:aws:s3:::tvm-files' }, object },
});

describe('event keys (form encoding, as S3 writes them into notifications)', () => {
  it('any key, encoded as S3 does, decodes to itself', () => {
    fc.assert(
      fc.property(objectKey, (key) => expect(decodeEventKey(encodeEventKey(key))).toBe(key)),
      {
        numRuns: 2000,
      },
    );
  });

  it('decodes as the WHATWG form decoder does (differential), for every well-formed encoding', () => {
    fc.assert(
      fc.property(objectKey, (key) => {
        // URLSearchParams encodes more characters than S3 (`/`, `*`) but both decode the same way.
        const viaForm = new URLSearchParams({ k: key }).toString().slice(2);
        expect(decodeEventKey(viaForm)).toBe(new URLSearchParams(`k=${viaForm}`).get('k'));
        expect(decodeEventKey(viaForm)).toBe(key);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the documented cases: "+" is a space, "%2B" a plus, UTF-8 escapes', () => {
    expect(decodeEventKey('alice/red+flower.jpg')).toBe('alice/red flower.jpg');
    expect(decodeEventKey('alice/a%2Bb')).toBe('alice/a+b');
    expect(decodeEventKey('alice/%C3%BC%20x')).toBe('alice/ü x');
    expect(encodeEventKey('alice/a+b c/ü')).toBe('alice/a%2Bb+c/%C3%BC');
  });

  it('refuses a broken escape', () => {
    expect(decodeEventKey('alice/%E2%82')).toBeUndefined();
    expect(decodeEventKey('alice/%zz')).toBeUndefined();
  });
});

describe('sequencers (S3: right-pad the shorter with zeros, then compare)', () => {
  const hex = fc.string({
    unit: fc.constantFrom(...'0123456789ABCDEF'),
    minLength: 1,
    maxLength: 20,
  }) as fc.Arbitrary<Sequencer>;

  it('trailing zeros do not change a sequencer', () => {
    fc.assert(
      fc.property(hex, fc.nat({ max: 6 }), (value, zeros) => {
        expect(compareSequencers(value, `${value}${'0'.repeat(zeros)}` as Sequencer)).toBe(0);
      }),
    );
  });

  it('orders like the numbers the padded digits spell, antisymmetrically', () => {
    fc.assert(
      fc.property(hex, hex, (a, b) => {
        const width = Math.max(a.length, b.length);
        const numeric = (value: string) => BigInt(`0x${value.padEnd(width, '0')}`);
        expect(Math.sign(compareSequencers(a, b))).toBe(Math.sign(Number(numeric(a) - numeric(b))));
        expect(compareSequencers(a, b)).toBe(-compareSequencers(b, a));
      }),
    );
  });

  it("reads S3's values case-insensitively and refuses anything but hexadecimal", () => {
    expect(parseSequencer('0055aed6dcd90281e5')).toBe('0055AED6DCD90281E5');
    for (const bad of ['', 'xyz', '12 34', 'A'.repeat(65), 5, null, undefined])
      expect(parseSequencer(bad)).toBeUndefined();
  });
});

describe('notification bodies', () => {
  it("reads S3's event records", () => {
    const parsed = parseNotification(
      JSON.stringify({
        Records: [
          record({
            key: 'alice/red+flower.jpg',
            size: 1024,
            eTag: 'x',
            versionId: 'v1',
            sequencer: '0055AED6DCD90281E5',
          }),
          record(
            { key: 'alice/a', versionId: 'm1', sequencer: '0055AED6DCD90281E6' },
            'ObjectRemoved:DeleteMarkerCreated',
          ),
          record({ key: 'alice/a', versionId: 'v0', sequencer: '0055AED6DCD90281E7' }, 'LifecycleExpiration:Delete'),
          record({ key: 'alice/a', sequencer: '0055AED6DCD90281E8' }, 'ObjectRemoved:Delete'),
          record({ key: 'alice/a', sequencer: '0055AED6DCD90281E9' }, 'ObjectTagging:Put'),
        ],
      }),
    );
    expect(parsed.events.map((event) => [event.kind, event.key, event.size, event.versionId])).toEqual([
      ['created', 'alice/red flower.jpg', 1024, 'v1'],
      ['removed', 'alice/a', 0, 'm1'],
      ['version-removed', 'alice/a', 0, 'v0'],
      ['removed', 'alice/a', 0, undefined],
    ]);
    expect(parsed.ignored).toBe(1);
    expect(parsed.events[0]?.eventTime).toBe(Date.parse('2026-12-01T10:00:00.000Z'));
  });

  it('rejects records it cannot count, each with its reason', () => {
    const parsed = parseNotification(
      JSON.stringify({
        Records: [
          record({ key: 'alice/a', size: -1, sequencer: '01' }),
          record({ key: 'alice/a', size: 1.5, sequencer: '01' }),
          record({ key: 'alice/a', size: 1, sequencer: 'not-hex' }),
          record({ key: 'alice/%E2', size: 1, sequencer: '01' }),
          { ...record({ key: 'alice/a', size: 1, sequencer: '01' }), eventSource: 'aws:sqs' },
          { ...record({ key: 'alice/a', size: 1, sequencer: '01' }), eventTime: 'yesterday' },
          'a string',
        ],
      }),
    );
    expect(parsed.events).toEqual([]);
    expect(parsed.rejected.map((rejected) => rejected.reason)).toEqual([
      'size is not a whole number of bytes',
      'size is not a whole number of bytes',
      'sequencer is missing or not hexadecimal',
      'object key is not form-encoded UTF-8',
      'eventSource is not aws:s3',
      'eventTime is not a date',
      'record is not an object',
    ]);
  });

  it("ignores S3's test event and refuses a body that is no notification", () => {
    expect(parseNotification(JSON.stringify({ Event: 's3:TestEvent' })).events).toEqual([]);
    for (const body of ['', '{', '[]', '{"Records":{}}', 'null'])
      expect(() => parseNotification(body)).toThrow(MalformedNotificationError);
  });
});
