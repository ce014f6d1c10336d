/**
 * What one access-log object says each user did, per UTC day: requests by kind, bytes
 * downloaded and uploaded, and requests into other users' folders (through shares). Pure.
 *
 * A request is attributed to the role session name of the vending role's credentials, which
 * the TVM sets to the username (for share credentials: the grantee's). Anything else (the
 * operator, the functions' own roles, anonymous requests, S3's lifecycle) is counted as
 * unattributed: the session name of another role is whatever that role's caller chose, so it
 * proves nothing about a user.
 */
import { isUsername, type Username } from '../accounts/username';
import { MalformedAccessLogLine, parseAccessLogLine, type AccessLogRecord } from './access-log';

/** One user's requests on one day. Every field is a count the store ADDs. */
export interface RequestCounts {
  readonly get: number;
  readonly put: number;
  readonly list: number;
  readonly delete: number;
  readonly other: number;
  /** Bytes sent in answer to successful GetObject requests (whole or ranged). */
  readonly bytesDownloaded: number;
  /** Bytes received by PutObject, POST uploads and UploadPart (the object size S3 logged). */
  readonly bytesUploaded: number;
  /** Requests on keys in another user's folder (made with share credentials). */
  readonly intoOtherFolders: number;
}

/** The counters, in the order the report prints them. */
export const REQUEST_COUNTERS = [
  'get',
  'put',
  'list',
  'delete',
  'other',
  'bytesDownloaded',
  'bytesUploaded',
  'intoOtherFolders',
] as const satisfies readonly (keyof RequestCounts)[];

/** Nothing counted. */
export const NO_REQUESTS: RequestCounts = {
  get: 0,
  put: 0,
  list: 0,
  delete: 0,
  other: 0,
  bytesDownloaded: 0,
  bytesUploaded: 0,
  intoOtherFolders: 0,
};

/** The kind a request counts as. */
export type RequestKind = 'get' | 'put' | 'list' | 'delete' | 'other';

const KINDS: Readonly<Record<string, RequestKind>> = {
  'REST.GET.OBJECT': 'get',
  'REST.HEAD.OBJECT': 'get',
  'REST.PUT.OBJECT': 'put',
  'REST.POST.OBJECT': 'put',
  'REST.COPY.OBJECT': 'put',
  'REST.POST.UPLOADS': 'put',
  'REST.PUT.PART': 'put',
  'REST.COPY.PART': 'put',
  'REST.POST.UPLOAD': 'put',
  'REST.GET.BUCKET': 'list',
  'REST.GET.UPLOADS': 'list',
  'REST.GET.UPLOAD': 'list',
  'REST.DELETE.OBJECT': 'delete',
  'REST.POST.MULTI_OBJECT_DELETE': 'delete',
  'REST.DELETE.UPLOAD': 'delete',
};

/**
 * The kind of request an operation is, or undefined for a line that is not a request of its
 * own: S3 writes one `BATCH.DELETE.OBJECT` line per key of a DeleteObjects request beside the
 * request's own `REST.POST.MULTI_OBJECT_DELETE` line, which alone is counted.
 */
export function requestKind(operation: string): RequestKind | undefined {
  if (operation.startsWith('BATCH.')) return undefined;
  return KINDS[operation] ?? 'other';
}

/** The username a requester ARN stands for: a session of the vending role, named by a valid username. */
export function attributedUser(requester: string | undefined, vendingRoleName: string): Username | undefined {
  if (requester === undefined) return undefined;
  const parts = requester.split(':');
  // arn:aws:sts::<account>:assumed-role/<role>/<session>
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sts') return undefined;
  const [type, role, session, ...rest] = (parts[5] ?? '').split('/');
  if (type !== 'assumed-role' || role !== vendingRoleName || session === undefined || rest.length > 0) return undefined;
  return isUsername(session) ? session : undefined;
}

/** One user's counts on one day. */
export interface DayRequests {
  /** `yyyy-mm-dd`, UTC. */
  readonly day: string;
  readonly username: Username;
  readonly counts: RequestCounts;
}

/** What one access-log object amounts to. */
export interface RequestTally {
  readonly days: DayRequests[];
  /** Requests of the file bucket no user is answerable for (see the module's note). */
  readonly unattributed: number;
  /** Lines that could not be read; logged, never counted. */
  readonly malformed: number;
  /** Lines about another bucket (a log bucket may collect several). */
  readonly otherBuckets: number;
}

/** Where and whose: the file bucket's name and the vending role's name. */
export interface TallyOptions {
  readonly bucket: string;
  readonly vendingRoleName: string;
}

/** `yyyy-mm-dd` of a time, in UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds `b` to `a`, counter by counter. */
export function addCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  const sum: Record<string, number> = {};
  for (const name of REQUEST_COUNTERS) sum[name] = a[name] + b[name];
  return sum as unknown as RequestCounts;
}

/** What one record adds to its requester's day. */
export function countsOf(record: AccessLogRecord, kind: RequestKind, username: Username): RequestCounts {
  const succeeded = record.httpStatus !== undefined && record.httpStatus < 300;
  const uploads =
    record.operation === 'REST.PUT.OBJECT' ||
    record.operation === 'REST.POST.OBJECT' ||
    record.operation === 'REST.PUT.PART';
  const folder = record.key?.split('/', 1)[0];
  return {
    ...NO_REQUESTS,
    [kind]: 1,
    // The object's bytes: an error body is not a download.
    bytesDownloaded: record.operation === 'REST.GET.OBJECT' && succeeded ? record.bytesSent : 0,
    bytesUploaded: uploads && succeeded ? (record.objectSize ?? 0) : 0,
    intoOtherFolders: record.key !== undefined && record.key.includes('/') && folder !== username ? 1 : 0,
  };
}

/** Counts the lines of one log object (its text, lines separated by `\n`). */
export function tallyAccessLog(text: string, options: TallyOptions): RequestTally {
  const byDayAndUser = new Map<string, { day: string; username: Username; counts: Record<string, number> }>();
  // A log object holds many lines of few requesters and days: each is worked out once.
  const users = new Map<string | undefined, Username | undefined>();
  const dayNames = new Map<number, string>();
  let unattributed = 0;
  let malformed = 0;
  let otherBuckets = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    let record: AccessLogRecord;
    try {
      record = parseAccessLogLine(line);
    } catch (error) {
      if (!(error instanceof MalformedAccessLogLine)) throw error;
      malformed++;
      continue;
    }
    if (record.bucket !== options.bucket) {
      otherBuckets++;
      continue;
    }
    const kind = requestKind(record.operation);
    if (kind === undefined) continue;
    if (!users.has(record.requester))
      users.set(record.requester, attributedUser(record.requester, options.vendingRoleName));
    const username = users.get(record.requester);
    if (username === undefined) {
      unattributed++;
      continue;
    }
    const dayNumber = Math.floor(record.time / 86_400_000);
    let day = dayNames.get(dayNumber);
    if (day === undefined) dayNames.set(dayNumber, (day = utcDay(record.time)));
    const slot = `${day} ${username}`;
    let entry = byDayAndUser.get(slot);
    if (entry === undefined) byDayAndUser.set(slot, (entry = { day, username, counts: { ...NO_REQUESTS } }));
    const add = countsOf(record, kind, username);
    for (const name of REQUEST_COUNTERS) entry.counts[name] = (entry.counts[name] ?? 0) + add[name];
  }
  return {
    days: [...byDayAndUser.values()].map(({ day, username, counts }) => ({
      day,
      username,
      counts: counts as unknown as RequestCounts,
    })),
    unattributed,
    malformed,
    otherBuckets,
  };
}
