/**
 * S3 server access log records ("Amazon S3 server access log format"): one request per line,
 * space-separated fields, the time in brackets, the request line, referer and user agent in
 * double quotes, `-` for a field with no value. The stack's log processor reads the lines S3
 * delivers; the sandbox's S3 gate writes its lines with {@link formatAccessLogRecord}, so both
 * sides of the format live here. Pure: no AWS imports.
 *
 * Fields are positional and S3 adds new ones at the end, so a line may carry more fields than
 * this module names (they are ignored) or, from older deliveries, fewer of the trailing ones.
 */

/** Where the file bucket's server access logs land in the log bucket (the stack's `serverAccessLogsPrefix`). */
export const ACCESS_LOG_PREFIX = 'file-bucket/';

/** One request as S3 logged it. Absent values (`-`) are undefined (numbers: see each field). */
export interface AccessLogRecord {
  readonly bucketOwner?: string;
  readonly bucket?: string;
  /** When S3 received the request, in ms since the epoch (the line's `[dd/Mon/yyyy:HH:mm:ss +0000]`). */
  readonly time: number;
  readonly remoteIp?: string;
  /** A canonical user id, an IAM ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), or undefined for anonymous. */
  readonly requester?: string;
  readonly requestId?: string;
  /** `REST.GET.OBJECT`, `REST.PUT.OBJECT`, `BATCH.DELETE.OBJECT`, `S3.EXPIRE.OBJECT`, ... */
  readonly operation: string;
  /** The object key, decoded (the line carries it URL-encoded). */
  readonly key?: string;
  /** The request line, e.g. `GET /bucket/key HTTP/1.1`. */
  readonly requestUri?: string;
  readonly httpStatus?: number;
  readonly errorCode?: string;
  /** Response bytes sent (without HTTP overhead); 0 when the line says `-`. */
  readonly bytesSent: number;
  readonly objectSize?: number;
  readonly totalTimeMs?: number;
  readonly turnAroundTimeMs?: number;
  readonly referer?: string;
  readonly userAgent?: string;
  readonly versionId?: string;
  readonly hostId?: string;
  readonly signatureVersion?: string;
  readonly cipherSuite?: string;
  readonly authType?: string;
  readonly hostHeader?: string;
  readonly tlsVersion?: string;
  readonly accessPointArn?: string;
  readonly aclRequired?: string;
}

/** How each position reads; the order is S3's. */
const FIELDS = [
  'bucketOwner',
  'bucket',
  'time',
  'remoteIp',
  'requester',
  'requestId',
  'operation',
  'key',
  'requestUri',
  'httpStatus',
  'errorCode',
  'bytesSent',
  'objectSize',
  'totalTimeMs',
  'turnAroundTimeMs',
  'referer',
  'userAgent',
  'versionId',
  'hostId',
  'signatureVersion',
  'cipherSuite',
  'authType',
  'hostHeader',
  'tlsVersion',
  'accessPointArn',
  'aclRequired',
] as const;

/** Fields written in double quotes. */
const QUOTED = new Set<string>(['requestUri', 'referer', 'userAgent']);
/** Fields holding a whole number. */
const NUMERIC = new Set<string>(['httpStatus', 'bytesSent', 'objectSize', 'totalTimeMs', 'turnAroundTimeMs']);
/**
 * The fewest fields a line may have: up to the user agent. The version id and everything after
 * it were added to the format over the years, so older lines end earlier.
 */
const MIN_FIELDS = FIELDS.indexOf('userAgent') + 1;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A line this module cannot read; the processor counts these and goes on. */
export class MalformedAccessLogLine extends Error {
  constructor(reason: string) {
    super(`malformed access log line: ${reason}`);
    this.name = 'MalformedAccessLogLine';
  }
}

/**
 * Splits a line into its fields: bare fields end at a space, `[...]` at the closing bracket,
 * `"..."` at the closing quote (a backslash escapes the next character inside quotes).
 */
export function splitAccessLogFields(line: string): string[] {
  const fields: string[] = [];
  let at = 0;
  while (at < line.length) {
    const opener = line[at];
    if (opener === '[' || opener === '"') {
      const closer = opener === '[' ? ']' : '"';
      let end = line.indexOf(closer, at + 1);
      let value = line.slice(at + 1, end);
      // Inside quotes a backslash escapes the next character: read those fields one by one.
      if (opener === '"' && (end === -1 || value.includes('\\'))) {
        value = '';
        for (end = at + 1; end < line.length && line[end] !== closer; end++) {
          if (line[end] === '\\' && end + 1 < line.length) end++;
          value += line[end];
        }
      }
      if (end === -1 || end >= line.length) throw new MalformedAccessLogLine(`unterminated ${opener}`);
      fields.push(opener === '"' ? `"${value}` : value);
      at = end + 1;
    } else {
      const end = line.indexOf(' ', at);
      fields.push(line.slice(at, end === -1 ? line.length : end));
      at = end === -1 ? line.length : end;
    }
    if (at < line.length) {
      if (line[at] !== ' ') throw new MalformedAccessLogLine('fields must be separated by one space');
      at++;
      if (at === line.length) throw new MalformedAccessLogLine('trailing space');
    }
  }
  return fields;
}

/** `06/Feb/2019:00:00:38 +0000` in ms since the epoch. */
export function parseAccessLogTime(text: string): number {
  const bad = () => new MalformedAccessLogLine('the time is not dd/Mon/yyyy:HH:mm:ss +zzzz');
  if (text.length !== 26 || text[2] !== '/' || text[6] !== '/' || text[11] !== ':' || text[20] !== ' ') throw bad();
  const month = MONTHS.indexOf(text.slice(3, 6));
  const digits = (from: number, to: number) => {
    const part = text.slice(from, to);
    if (!/^\d+$/.test(part)) throw bad();
    return Number(part);
  };
  const day = digits(0, 2);
  const year = digits(7, 11);
  const hour = digits(12, 14);
  const minute = digits(15, 17);
  const second = digits(18, 20);
  if (text[14] !== ':' || text[17] !== ':' || month === -1) throw bad();
  const sign = text[21] === '+' ? 1 : text[21] === '-' ? -1 : 0;
  if (sign === 0) throw bad();
  const offsetMinutes = sign * (digits(22, 24) * 60 + digits(24, 26));
  const utc = Date.UTC(year, month, day, hour, minute, second);
  const date = new Date(utc);
  if (date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw bad();
  return utc - offsetMinutes * 60_000;
}

/** The time as the log writes it, always in UTC. */
export function formatAccessLogTime(ms: number): string {
  const date = new Date(ms);
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${String(date.getUTCFullYear()).padStart(4, '0')}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/**
 * The key as the log carries it: URL-encoded (each UTF-8 byte outside `A-Za-z0-9-_.~` and `/`
 * as `%XX`), so a key never holds a space or a quote in the line.
 */
export function encodeLogKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/** Reverses {@link encodeLogKey}; also reads a `+` as a literal plus. */
export function decodeLogKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new MalformedAccessLogLine('the key is not URL-encoded UTF-8');
  }
}

let lastTime = { text: '', ms: 0 };

/** Reads one line (without its newline). Throws {@link MalformedAccessLogLine}. */
export function parseAccessLogLine(line: string): AccessLogRecord {
  const raw = splitAccessLogFields(line);
  if (raw.length < MIN_FIELDS)
    throw new MalformedAccessLogLine(`${raw.length} fields, at least ${MIN_FIELDS} expected`);
  const record: Record<string, string | number | undefined> = {};
  FIELDS.forEach((name, index) => {
    const value = raw[index];
    if (value === undefined) return;
    const quoted = value.startsWith('"');
    if (QUOTED.has(name) !== quoted)
      throw new MalformedAccessLogLine(`field ${name} ${quoted ? 'must not' : 'must'} be quoted`);
    const text = quoted ? value.slice(1) : value;
    if (text === '-') {
      if (name === 'bytesSent') record[name] = 0;
      return;
    }
    if (name === 'time') {
      // Neighbouring lines mostly share their second: read each time text once.
      if (text !== lastTime.text) lastTime = { text, ms: parseAccessLogTime(text) };
      record[name] = lastTime.ms;
    } else if (name === 'key') record[name] = decodeLogKey(text);
    else if (NUMERIC.has(name)) {
      if (!/^\d{1,15}$/.test(text)) throw new MalformedAccessLogLine(`field ${name} is not a number`);
      record[name] = Number(text);
    } else record[name] = text;
  });
  if (typeof record.time !== 'number') throw new MalformedAccessLogLine('no time');
  if (typeof record.operation !== 'string') throw new MalformedAccessLogLine('no operation');
  record.bytesSent ??= 0;
  return record as unknown as AccessLogRecord;
}

/** Quotes a value for a quoted field: `"` and `\` escaped. */
function quote(value: string): string {
  // A control character (a line break above all) would end the record: it is written as `?`.
  // eslint-disable-next-line no-control-regex -- the point is to find control characters.
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, '?')}"`;
}

/**
 * Writes one record as S3 writes it (all 26 named fields). Bare fields must hold no space,
 * bracket or quote; the writer (the sandbox gate) passes only such values.
 */
export function formatAccessLogRecord(record: AccessLogRecord): string {
  return FIELDS.map((name) => {
    const value = record[name];
    if (name === 'time') return `[${formatAccessLogTime(record.time)}]`;
    if (value === undefined || (name === 'bytesSent' && value === 0)) return QUOTED.has(name) ? '"-"' : '-';
    // A key that is exactly `-` would read as "no key".
    if (name === 'key') return value === '-' ? '%2D' : encodeLogKey(String(value));
    if (QUOTED.has(name)) return quote(String(value));
    return String(value);
  }).join(' ');
}
