/**
 * Where the client keeps the login session between app starts. Only the session (username,
 * bearer token, expiry) is stored: AWS credentials stay in memory, so a stolen copy of the
 * store never holds keys that work against S3 directly.
 */

/** What the client persists about a login. */
export interface StoredSession {
  readonly username: string;
  /** The bearer token for `/token` and `/logout`. A secret: store it where only the app can read it. */
  readonly token: string;
  /** ISO 8601; after this instant the TVM refuses the session. */
  readonly expiresAt: string;
}

/**
 * Persistence for the session. Methods may be synchronous or asynchronous, so the same
 * interface fits `localStorage`, React Native's AsyncStorage or a platform keychain.
 */
export interface SessionStore {
  load(): StoredSession | undefined | Promise<StoredSession | undefined>;
  save(session: StoredSession): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** Keeps the session in memory only: it is gone when the process or page ends. The default. */
export class MemorySessionStore implements SessionStore {
  private session: StoredSession | undefined;

  constructor(initial?: StoredSession) {
    this.session = initial;
  }

  load(): StoredSession | undefined {
    return this.session;
  }

  save(session: StoredSession): void {
    this.session = session;
  }

  clear(): void {
    this.session = undefined;
  }
}

/**
 * A string key-value store, synchronous (`window.localStorage`, `sessionStorage`) or
 * asynchronous (React Native's `AsyncStorage`).
 */
export interface KeyValueStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** Options of {@link LocalStorageSessionStore}. */
export interface LocalStorageSessionStoreOptions {
  /** The key the session is kept under. Default `'tvm.session'`. */
  readonly key?: string;
  /** The storage to use. Default `globalThis.localStorage` (throws at construction if there is none). */
  readonly storage?: KeyValueStorage;
}

/**
 * Keeps the session in browser `localStorage` (or any {@link KeyValueStorage}, such as React
 * Native's AsyncStorage) as JSON, so a reload or an app restart stays logged in. A corrupt or
 * incomplete entry reads as "no session" rather than an error.
 */
export class LocalStorageSessionStore implements SessionStore {
  private readonly key: string;
  private readonly storage: KeyValueStorage;

  constructor(options: LocalStorageSessionStoreOptions = {}) {
    this.key = options.key ?? 'tvm.session';
    const storage = options.storage ?? (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    if (!storage) throw new Error('LocalStorageSessionStore: there is no localStorage here; pass options.storage.');
    this.storage = storage;
  }

  async load(): Promise<StoredSession | undefined> {
    const text = await this.storage.getItem(this.key);
    if (text === null) return undefined;
    try {
      return parseStoredSession(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  async save(session: StoredSession): Promise<void> {
    const { username, token, expiresAt } = session;
    await this.storage.setItem(this.key, JSON.stringify({ username, token, expiresAt }));
  }

  async clear(): Promise<void> {
    await this.storage.removeItem(this.key);
  }
}

function parseStoredSession(value: unknown): StoredSession | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { username, token, expiresAt } = value as Record<string, unknown>;
  if (typeof username !== 'string' || typeof token !== 'string' || typeof expiresAt !== 'string') return undefined;
  return { username, token, expiresAt };
}
