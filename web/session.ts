/**
 * The app's one TVM client, credential provider and storage helpers. The session and this
 * browser's device tokens are kept in localStorage (a reload or a new tab stays logged in and
 * keeps the device's trust); AWS credentials stay in memory. docs/web-app.md has the threat model.
 */
import { XhrHttpHandler } from '@aws-sdk/xhr-http-handler';
import {
  fromTvm,
  LocalStorageSessionStore,
  MemoryDeviceTokenStore,
  MemorySessionStore,
  TvmClient,
  type DeviceTokenStore,
  type SessionStore,
} from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';

/** The TVM API's URL: the page's own origin unless the server named another in a meta tag. */
function apiBaseUrl(): string {
  const configured = document.querySelector<HTMLMetaElement>('meta[name="tvm-api-url"]')?.content.trim() ?? '';
  return configured === '' || configured.startsWith('%')
    ? window.location.origin
    : new URL(configured, window.location.href).href;
}

/** The localStorage key of the session (the app's tabs share it). */
export const SESSION_KEY = 'personal-file-store.session';

/** localStorage, so a reload stays logged in; memory only where the browser blocks storage. */
function sessionStore(): SessionStore {
  try {
    return new LocalStorageSessionStore({ key: SESSION_KEY });
  } catch {
    return new MemorySessionStore();
  }
}

/** Where device tokens live: one localStorage entry per user, under a hash of the username. */
export const DEVICE_TOKEN_KEY_PREFIX = 'personal-file-store.device.';

/**
 * Device tokens in localStorage, so that a reload or another tab keeps this browser's trust
 * (the TVM counts its wrong passwords and codes apart from strangers'). The key is a SHA-256 of
 * the username, so the storage does not list who logged in here in plain text. A token opens
 * nothing by itself and outlives logout on purpose: it names the device, not the session.
 */
class LocalStorageDeviceTokenStore implements DeviceTokenStore {
  constructor(private readonly storage: Storage) {}

  private static async keyFor(username: string): Promise<string> {
    const digest = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(username.toLowerCase())),
    );
    return DEVICE_TOKEN_KEY_PREFIX + [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  }

  async load(username: string): Promise<string | undefined> {
    return this.storage.getItem(await LocalStorageDeviceTokenStore.keyFor(username)) ?? undefined;
  }

  async save(username: string, token: string): Promise<void> {
    this.storage.setItem(await LocalStorageDeviceTokenStore.keyFor(username), token);
  }
}

function deviceTokenStore(): DeviceTokenStore {
  try {
    // Reading the property throws where the browser blocks storage (some private modes).
    const storage = window.localStorage;
    return crypto.subtle ? new LocalStorageDeviceTokenStore(storage) : new MemoryDeviceTokenStore();
  } catch {
    return new MemoryDeviceTokenStore();
  }
}

export const tvm = new TvmClient({
  baseUrl: apiBaseUrl(),
  sessionStore: sessionStore(),
  deviceTokens: deviceTokenStore(),
  device: 'web',
});
export const credentials = fromTvm(tvm);
/** Files over one part (7 MiB) go multipart, four parts at a time. */
export const storage = new TvmStorage({ client: tvm, credentials });
/**
 * Uploads go through XMLHttpRequest, which reports the bytes sent while a request is under way
 * (fetch cannot): lib-storage turns its progress events into progress within each 7 MiB part.
 * Downloads and listings keep fetch, which streams a response instead of buffering it.
 */
export const uploadStorage = new TvmStorage({
  client: tvm,
  credentials,
  s3: { requestHandler: new XhrHttpHandler({ requestTimeout: 60_000 }) },
});
