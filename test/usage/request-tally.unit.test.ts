import fc from 'fast-check';
import type { Username } from '../../lambda/accounts/username';
import { formatAccessLogRecord, type AccessLogRecord } from '../../lambda/usage/access-log';
import {
  NO_REQUESTS,
  addCounts,
  attributedUser,
  requestKind,
  tallyAccessLog,
  type RequestCounts,
} from '../../lambda/usage/request-tally';

const OPTIONS = { bucket: 'tvm-files', vendingRoleName: 'tvm-vending' };
const ROLE = (session: string, role = 'tvm-vending') => `arn:aws:sts::000000000000:assumed-role/${role}/${session}`;
const DAY1 = Date.UTC(2026, 11, 7, 23, 59, 59);
const DAY2 = Date.UTC(2026, 11, 8, 0, 0, 0);

function line(overrides: Partial<AccessLogRecord> & Pick<AccessLogRecord, 'operation'>): string {
  return formatAccessLogRecord({
    bucket: 'tvm-files',
    time: DAY1,
    requester: ROLE('alice'),
    httpStatus: 200,
    bytesSent: 0,
    ...overrides,
  });
}

function countsFor(text: string, day: string, username: string): RequestCounts | undefined {
  return tallyAccessLog(text, OPTIONS).days.find((entry) => entry.day === day && entry.username === username)?.counts;
}

describe('request tally', () => {
  it('counts requests by kind and bytes per user and UTC day', () => {
    const text = [
      line({ operation: 'REST.GET.OBJECT', key: 'alice/a.txt', bytesSent: 100, objectSize: 100 }),
      line({ operation: 'REST.GET.OBJECT', key: 'alice/a.txt', bytesSent: 10, objectSize: 100, httpStatus: 206 }),
      line({ operation: 'REST.HEAD.OBJECT', key: 'alice/a.txt' }),
      line({ operation: 'REST.PUT.OBJECT', key: 'alice/b.txt', objectSize: 2048 }),
      line({ operation: 'REST.GET.BUCKET' }),
      line({ operation: 'REST.DELETE.OBJECT', key: 'alice/b.txt' }),
      line({ operation: 'REST.GET.OBJECT_TAGGING', key: 'alice/a.txt' }),
      line({ operation: 'REST.GET.OBJECT', key: 'alice/a.txt', bytesSent: 5, time: DAY2 }),
    ].join('\n');
    expect(countsFor(text, '2026-12-07', 'alice')).toEqual({
      ...NO_REQUESTS,
      get: 3,
      put: 1,
      list: 1,
      delete: 1,
      other: 1,
      bytesDownloaded: 110,
      bytesUploaded: 2048,
    });
    expect(countsFor(text, '2026-12-08', 'alice')).toEqual({ ...NO_REQUESTS, get: 1, bytesDownloaded: 5 });
  });

  it('counts a DeleteObjects request once, not its per-key BATCH lines', () => {
    const text = [
      line({ operation: 'REST.POST.MULTI_OBJECT_DELETE' }),
      line({ operation: 'BATCH.DELETE.OBJECT', key: 'alice/a' }),
      line({ operation: 'BATCH.DELETE.OBJECT', key: 'alice/b' }),
    ].join('\n');
    expect(countsFor(text, '2026-12-07', 'alice')).toEqual({ ...NO_REQUESTS, delete: 1 });
  });

  it('counts a refused upload as a put with no bytes uploaded', () => {
    const text = line({
      operation: 'REST.PUT.OBJECT',
      key: 'alice/x',
      objectSize: 999,
      httpStatus: 403,
      errorCode: 'AccessDenied',
    });
    expect(countsFor(text, '2026-12-07', 'alice')).toEqual({ ...NO_REQUESTS, put: 1 });
  });

  it("attributes a share grantee's request into the owner's folder to the grantee, marked as into another folder", () => {
    const text = line({
      operation: 'REST.GET.OBJECT',
      key: 'bob/shared/x.pdf',
      requester: ROLE('carol'),
      bytesSent: 7,
    });
    expect(countsFor(text, '2026-12-07', 'carol')).toEqual({
      ...NO_REQUESTS,
      get: 1,
      bytesDownloaded: 7,
      intoOtherFolders: 1,
    });
    expect(countsFor(text, '2026-12-07', 'bob')).toBeUndefined();
  });

  it('counts the operator, other roles, anonymous requests and S3 lifecycle as unattributed', () => {
    const lines = [
      line({ operation: 'REST.GET.OBJECT', requester: 'arn:aws:iam::000000000000:root' }),
      // A function's own role, whose session name could look like a username.
      line({ operation: 'REST.GET.OBJECT', requester: ROLE('alice', 'tvm-deletion-worker') }),
      line({ operation: 'REST.GET.OBJECT', requester: undefined }),
      line({ operation: 'S3.EXPIRE.OBJECT', requester: 'AmazonS3', key: 'alice/old' }),
      // A session name no username can be.
      line({ operation: 'REST.GET.OBJECT', requester: ROLE('Not..A.User') }),
      line({ operation: 'REST.GET.OBJECT', requester: `${ROLE('alice')}/extra` }),
    ];
    const tally = tallyAccessLog(lines.join('\n'), OPTIONS);
    expect(tally.days).toEqual([]);
    expect(tally.unattributed).toBe(lines.length);
  });

  it('skips and counts malformed lines and lines of other buckets, and reads CRLF line ends', () => {
    const text = [
      'garbage',
      line({ operation: 'REST.GET.OBJECT', bucket: 'another-bucket' }),
      `${line({ operation: 'REST.GET.BUCKET' })}\r`,
      '',
    ].join('\n');
    const tally = tallyAccessLog(text, OPTIONS);
    expect(tally).toMatchObject({ malformed: 1, otherBuckets: 1, unattributed: 0 });
    expect(countsFor(text, '2026-12-07', 'alice')).toEqual({ ...NO_REQUESTS, list: 1 });
  });

  it('reads only sessions of the vending role named by a valid username', () => {
    expect(attributedUser(ROLE('alice'), 'tvm-vending')).toBe('alice');
    expect(attributedUser(ROLE('alice'), 'other-role')).toBeUndefined();
    expect(attributedUser('arn:aws:iam::000000000000:user/alice', 'tvm-vending')).toBeUndefined();
    expect(
      attributedUser('79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be', 'tvm-vending'),
    ).toBeUndefined();
  });

  it('maps unknown operations to other and batch lines to no request', () => {
    expect(requestKind('REST.PUT.OBJECT_ACL')).toBe('other');
    expect(requestKind('BATCH.DELETE.OBJECT')).toBeUndefined();
  });

  it('the tally of a log is the sum of the tallies of its parts, in any split (property)', () => {
    const users = ['alice', 'bob', 'carol'] as Username[];
    const operations = [
      'REST.GET.OBJECT',
      'REST.PUT.OBJECT',
      'REST.GET.BUCKET',
      'REST.DELETE.OBJECT',
      'REST.POST.UPLOAD',
    ];
    const lineArb = fc
      .record({
        user: fc.constantFrom(...users),
        folder: fc.constantFrom(...users),
        operation: fc.constantFrom(...operations),
        bytesSent: fc.nat(10_000),
        objectSize: fc.nat(10_000),
        time: fc.integer({ min: DAY1 - 86_400_000, max: DAY2 + 86_400_000 }),
      })
      .map((r) =>
        line({
          operation: r.operation,
          requester: ROLE(r.user),
          key: `${r.folder}/k`,
          bytesSent: r.bytesSent,
          objectSize: r.objectSize,
          time: r.time,
        }),
      );
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 40 }), fc.nat(40), (lines, cut) => {
        const whole = tallyAccessLog(lines.join('\n'), OPTIONS);
        const parts = [lines.slice(0, cut), lines.slice(cut)].map((part) => tallyAccessLog(part.join('\n'), OPTIONS));
        const summed = new Map<string, RequestCounts>();
        for (const part of parts)
          for (const entry of part.days) {
            const slot = `${entry.day} ${entry.username}`;
            summed.set(slot, addCounts(summed.get(slot) ?? NO_REQUESTS, entry.counts));
          }
        expect(new Map(whole.days.map((entry) => [`${entry.day} ${entry.username}`, entry.counts]))).toEqual(summed);
      }),
    );
  });
});
