/**
 * The Personal File Store web app: log in to the TVM, then list, upload, download and delete
 * the files in your own S3 folder, straight against S3 with the vended credentials. The API
 * is only ever asked for credentials, never for files.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { fromTvm, LocalStorageSessionStore, LoginRequiredError, MemorySessionStore, TvmClient, type SessionStore, type StorageInfo } from '@serverless-tvm/client';
import { element } from './dom';
import { plainError, UserMistake } from './messages';
import { createMfaUi } from './mfa';

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

const tvm = new TvmClient({ baseUrl: apiBaseUrl(), sessionStore: sessionStore(), device: 'web' });
const credentials = fromTvm(tvm);

const ui = {
  main: element<HTMLElement>('main'),
  error: element<HTMLDivElement>('error'),
  status: element<HTMLDivElement>('status'),
  account: element<HTMLDivElement>('account'),
  accountName: element<HTMLElement>('account-name'),
  expiry: element<HTMLSpanElement>('credentials-expiry'),
  logoutButton: element<HTMLButtonElement>('logout-button'),
  authView: element<HTMLElement>('auth-view'),
  authForm: element<HTMLFormElement>('auth-form'),
  username: element<HTMLInputElement>('username'),
  password: element<HTMLInputElement>('password'),
  filesView: element<HTMLElement>('files-view'),
  refreshButton: element<HTMLButtonElement>('refresh-button'),
  uploadForm: element<HTMLFormElement>('upload-form'),
  fileInput: element<HTMLInputElement>('file-input'),
  uploadButton: element<HTMLButtonElement>('upload-button'),
  fileRows: element<HTMLTableSectionElement>('file-rows'),
  fileTable: element<HTMLTableElement>('file-table'),
  emptyFolder: element<HTMLParagraphElement>('empty-folder'),
};

// ---- messages -------------------------------------------------------------------------

function clearMessages(): void {
  ui.error.textContent = '';
  ui.error.hidden = true;
  ui.status.textContent = '';
  for (const input of [ui.username, ui.password]) input.removeAttribute('aria-invalid');
}

function showStatus(message: string): void {
  ui.status.textContent = message;
}

function showError(error: unknown): void {
  // The person sees plain words; a developer with the console open sees the real failure.
  console.error(error);
  const plain = plainError(error);
  ui.status.textContent = '';
  ui.error.textContent = plain.message;
  ui.error.hidden = false;
  if (plain.field && !ui.authView.hidden) {
    const input = plain.field === 'username' ? ui.username : ui.password;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

/** Runs an action with its button disabled, and turns any failure into a message. */
async function busy(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (error instanceof LoginRequiredError || isExpiredStorageAccess(error)) {
      showSignedOut();
    }
    showError(error);
  } finally {
    button.disabled = false;
  }
}

function isExpiredStorageAccess(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExpiredToken' || error.name === 'InvalidToken');
}

// ---- views ----------------------------------------------------------------------------

function showSignedOut(): void {
  ui.account.hidden = true;
  ui.filesView.hidden = true;
  ui.authView.hidden = false;
  ui.fileRows.replaceChildren();
  ui.password.value = '';
  ui.username.focus();
}

function showSignedIn(username: string): void {
  ui.accountName.textContent = username;
  ui.account.hidden = false;
  ui.authView.hidden = true;
  ui.filesView.hidden = false;
  renderExpiry();
}

/** "Access until 13:47:02 (59 min left), renewed automatically." */
function renderExpiry(): void {
  const snapshot = credentials.cached();
  if (!snapshot) {
    ui.expiry.textContent = '';
    return;
  }
  const minutesLeft = Math.max(0, Math.round((snapshot.expiration.getTime() - Date.now()) / 60_000));
  const at = snapshot.expiration.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  ui.expiry.textContent = `Access until ${at} (${minutesLeft} min left), renewed automatically.`;
  ui.expiry.title = 'Your short-lived AWS credentials expire then; the app fetches new ones before they do.';
  ui.expiry.dataset['expiration'] = snapshot.expiration.toISOString();
}

// ---- storage --------------------------------------------------------------------------

let s3: { client: S3Client; endpoint: string | undefined; region: string } | undefined;

tvm.onSessionChange((event) => {
  // fromTvm already makes the S3 client follow a user switch; a fresh client per login also
  // guarantees it should an SDK release start caching credentials per client again.
  s3?.client.destroy();
  s3 = undefined;
  if (event.type === 'signedOut' && event.reason !== 'logout') showSignedOut();
});

/** An S3 client for the current user's storage, rebuilt only if the endpoint or region changes. */
async function storage(): Promise<{ client: S3Client; info: StorageInfo }> {
  const info = await credentials.storage();
  if (!s3 || s3.endpoint !== info.endpoint || s3.region !== info.region) {
    s3?.client.destroy();
    const client = new S3Client({
      region: info.region,
      credentials,
      // The sandbox serves S3 on one host and port, so bucket names cannot be subdomains.
      ...(info.endpoint ? { endpoint: info.endpoint, forcePathStyle: true } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    s3 = { client, endpoint: info.endpoint, region: info.region };
  }
  return { client: s3.client, info };
}

interface FileEntry {
  readonly key: string;
  readonly name: string;
  readonly size: number;
  readonly lastModified: Date | undefined;
}

async function listFiles(): Promise<FileEntry[]> {
  const { client, info } = await storage();
  const files: FileEntry[] = [];
  let continuationToken: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await client.send(
      new ListObjectsV2Command({ Bucket: info.bucket, Prefix: info.prefix, ContinuationToken: continuationToken }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key || object.Key === info.prefix) continue;
      files.push({ key: object.Key, name: object.Key.slice(info.prefix.length), size: object.Size ?? 0, lastModified: object.LastModified });
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function actionButton(label: string, accessibleName: string, className: string, onClick: (button: HTMLButtonElement) => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  button.className = className;
  button.setAttribute('aria-label', accessibleName);
  button.addEventListener('click', () => onClick(button));
  return button;
}

function renderFiles(files: readonly FileEntry[]): void {
  const rows = files.map((file) => {
    const row = document.createElement('tr');
    row.dataset['key'] = file.key;
    const name = document.createElement('td');
    name.className = 'name';
    name.textContent = file.name;
    const size = document.createElement('td');
    size.className = 'number';
    size.textContent = formatSize(file.size);
    const changed = document.createElement('td');
    changed.textContent = file.lastModified ? file.lastModified.toLocaleString() : '';
    const actions = document.createElement('td');
    actions.className = 'row-actions';
    actions.append(
      actionButton('Download', `Download ${file.name}`, 'secondary', (button) => void busy(button, () => download(file))),
      actionButton('Delete', `Delete ${file.name}`, 'danger', (button) => void busy(button, () => remove(file))),
    );
    row.append(name, size, changed, actions);
    return row;
  });
  ui.fileRows.replaceChildren(...rows);
  ui.fileTable.hidden = files.length === 0;
  ui.emptyFolder.hidden = files.length > 0;
}

async function refreshList(): Promise<void> {
  renderFiles(await listFiles());
  renderExpiry();
}

async function upload(): Promise<void> {
  const files = [...(ui.fileInput.files ?? [])];
  if (files.length === 0) {
    ui.fileInput.focus();
    throw new UserMistake('Choose one or more files to upload first.');
  }
  const { client, info } = await storage();
  for (const [index, file] of files.entries()) {
    showStatus(`Uploading ${file.name} (${index + 1} of ${files.length})…`);
    await client.send(
      new PutObjectCommand({
        Bucket: info.bucket,
        Key: info.prefix + file.name,
        Body: new Uint8Array(await file.arrayBuffer()),
        ContentType: file.type || 'application/octet-stream',
      }),
    );
  }
  ui.uploadForm.reset();
  await refreshList();
  showStatus(files.length === 1 ? `Uploaded ${files[0]?.name}.` : `Uploaded ${files.length} files.`);
}

async function download(file: FileEntry): Promise<void> {
  const { client, info } = await storage();
  showStatus(`Downloading ${file.name}…`);
  const object = await client.send(new GetObjectCommand({ Bucket: info.bucket, Key: file.key }));
  const bytes = object.Body ? await object.Body.transformToByteArray() : new Uint8Array();
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: object.ContentType ?? 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name.split('/').pop() ?? file.name;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken its copy once the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  showStatus(`Downloaded ${file.name}.`);
}

async function remove(file: FileEntry): Promise<void> {
  if (!window.confirm(`Delete "${file.name}"? This cannot be undone.`)) return;
  const { client, info } = await storage();
  await client.send(new DeleteObjectCommand({ Bucket: info.bucket, Key: file.key }));
  await refreshList();
  showStatus(`Deleted ${file.name}.`);
  ui.fileInput.focus();
}

// ---- wiring ---------------------------------------------------------------------------

const mfaUi = createMfaUi(tvm, { clearMessages, showStatus, showError, busy });

ui.authForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const submitter = (event as SubmitEvent).submitter;
  const registering = submitter instanceof HTMLButtonElement && submitter.value === 'register';
  const button = submitter instanceof HTMLButtonElement ? submitter : element<HTMLButtonElement>('login-button');
  clearMessages();
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (username === '' || password === '') {
    const missing = username === '' ? ui.username : ui.password;
    missing.setAttribute('aria-invalid', 'true');
    missing.focus();
    ui.error.textContent = username === '' ? 'Enter your username.' : 'Enter your password.';
    ui.error.hidden = false;
    return;
  }
  void busy(button, async () => {
    showStatus(registering ? 'Creating your account…' : 'Logging in…');
    const result = registering ? await tvm.register(username, password) : await mfaUi.login(username, password);
    // Cancelled at the second-factor step: the login form is back.
    if (!result) return;
    ui.password.value = '';
    showSignedIn(result.username);
    await refreshList();
    showStatus(registering ? `Welcome, ${result.username}! Your folder is ready.` : `Welcome back, ${result.username}.`);
    ui.fileInput.focus();
  });
});

const passkeyLoginButton = element<HTMLButtonElement>('passkey-login-button');
passkeyLoginButton.addEventListener('click', () => {
  clearMessages();
  void busy(passkeyLoginButton, async () => {
    const result = await mfaUi.loginWithPasskey();
    showSignedIn(result.username);
    await refreshList();
    showStatus(`Welcome back, ${result.username}.`);
  });
});

ui.uploadForm.addEventListener('submit', (event) => {
  event.preventDefault();
  clearMessages();
  void busy(ui.uploadButton, upload);
});

ui.refreshButton.addEventListener('click', () => {
  clearMessages();
  void busy(ui.refreshButton, async () => {
    await refreshList();
    showStatus('File list updated.');
  });
});

ui.logoutButton.addEventListener('click', () => {
  clearMessages();
  void busy(ui.logoutButton, async () => {
    try {
      await tvm.logout();
      showSignedOut();
      showStatus('You are logged out.');
    } catch {
      showSignedOut();
      showStatus('You are logged out on this device. The server could not be reached, so the session will end on its own when it expires.');
    }
  });
});

window.setInterval(renderExpiry, 15_000);

async function start(): Promise<void> {
  const session = await tvm.getSession();
  if (!session) {
    showSignedOut();
    return;
  }
  showSignedIn(session.username);
  try {
    await refreshList();
  } catch (error) {
    if (error instanceof LoginRequiredError) showSignedOut();
    showError(error);
  }
}

void start().finally(() => {
  document.body.dataset['ready'] = 'true';
});
