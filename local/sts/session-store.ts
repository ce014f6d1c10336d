/**
 * The local STS's memory of every session it issued: the secret, the session token, the
 * expiry, the role and what narrows it (session policy, tags, source identity). The S3 gate
 * reads it to verify signatures and to evaluate policies.
 *
 * Sessions live in memory and are appended to a JSON-lines file under the data folder, so
 * credentials issued before a restart keep working until they expire, as real ones would.
 * The file holds secrets: it is created owner-only, inside the git-ignored data folder.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** One issued role session. */
export interface StsSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch ms. */
  readonly issuedAt: number;
  /** Epoch ms; the credentials are refused at or after it. */
  readonly expiresAt: number;
  readonly roleArn: string;
  readonly roleSessionName: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly assumedRoleArn: string;
  /** `<role id>:<session>`, the aws:userid of the session. */
  readonly assumedRoleId: string;
  readonly sourceIdentity?: string;
  /** The session policy exactly as passed to AssumeRole. */
  readonly sessionPolicy?: string;
  /** Session tags, keys as given. */
  readonly tags: Readonly<Record<string, string>>;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A temporary access key id in AWS's shape: `ASIA` and 16 upper-case base32 characters. */
export function newTemporaryAccessKeyId(): string {
  const bytes = randomBytes(16);
  let id = 'ASIA';
  for (const byte of bytes) id += BASE32[byte % 32];
  return id;
}

/** 40 characters, like AWS secret keys. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/** An opaque, unguessable session token (AWS's are long base64 blobs too). */
export function newSessionToken(): string {
  return `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64')}`;
}

/** In-memory sessions with an append-only file behind them. */
export class SessionStore {
  private readonly sessions = new Map<string, StsSession>();
  private log: WriteStream | undefined;
  private added = 0;

  /** @param file the JSON-lines file, or undefined to keep sessions in memory only. */
  constructor(private readonly file: string | undefined) {}

  /** The default file inside a data folder. */
  static fileIn(dataDir: string): string {
    return join(dataDir, 'sts-sessions.jsonl');
  }

  /** Loads unexpired sessions from the file, rewrites it without the expired ones, opens it for appending. */
  open(now = Date.now()): void {
    if (!this.file) return;
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const session = JSON.parse(line) as StsSession;
          if (typeof session.accessKeyId === 'string' && session.expiresAt > now)
            this.sessions.set(session.accessKeyId, session);
        } catch {
          // A line torn by a crash mid-write is skipped; the sessions before it still load.
        }
      }
    }
    const compacted = [...this.sessions.values()].map((s) => `${JSON.stringify(s)}\n`).join('');
    writeFileSync(`${this.file}.tmp`, compacted, { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
    this.log = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
  }

  /** Remembers a new session; every 1,000 additions, forgets those expired over a day ago. */
  add(session: StsSession): void {
    this.sessions.set(session.accessKeyId, session);
    this.log?.write(`${JSON.stringify(session)}\n`);
    if (++this.added % 1000 === 0) this.forgetLongExpired(session.issuedAt);
  }

  /**
   * Drops sessions that expired more than a day before `now`, so a long-running sandbox does
   * not grow with every credential it ever issued. Recently expired ones stay, so their keys
   * still get ExpiredToken (as from AWS) rather than InvalidAccessKeyId. The file is compacted
   * at the next start.
   */
  forgetLongExpired(now: number): void {
    for (const [accessKeyId, stored] of this.sessions) {
      if (stored.expiresAt < now - 86_400_000) this.sessions.delete(accessKeyId);
    }
  }

  /** The session an access key belongs to, expired or not: the caller decides. */
  get(accessKeyId: string): StsSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  /** How many sessions are remembered. */
  get size(): number {
    return this.sessions.size;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
}
