/**
 * The app's one TVM client, credential provider and storage helpers. The session is kept in
 * localStorage (a reload stays logged in); AWS credentials stay in memory.
 */
import { fromTvm, LocalStorageSessionStore, MemorySessionStore, TvmClient, type SessionStore } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';

/** The TVM API's URL: the page's own origin unless the server named another in a meta tag. */
function apiBaseUrl(): string {
  const configured = document.querySelector<HTMLMetaElement>('meta[name="tvm-api-url"]')?.content.trim() ?? '';
  return configured === '' || configured.startsWith('%') ? window.location.origin : new URL(configured, window.location.href).href;
}

/** localStorage, so a reload stays logged in; memory only where the browser blocks storage. */
function sessionStore(): SessionStore {
  try {
    return new LocalStorageSessionStore({ key: 'personal-file-store.session' });
  } catch {
    return new MemorySessionStore();
  }
}

export const tvm = new TvmClient({ baseUrl: apiBaseUrl(), sessionStore: sessionStore(), device: 'web' });
export const credentials = fromTvm(tvm);
/** Files over one part (7 MiB) go multipart, four parts at a time. */
export const storage = new TvmStorage({ client: tvm, credentials });
