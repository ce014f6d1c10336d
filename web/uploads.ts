/**
 * The upload queue: files from the picker or a drop go up one after another (each in parallel
 * parts), each with its own progress bar and Cancel button, under one overall bar. A file of
 * the same name asks before it replaces; one that cannot be stored says why, with the limit.
 */
import { checkSize, keyFor, type UploadTask } from '@serverless-tvm/client/storage';
import { button, ui } from './dom';
import { clearMessages, showErrorText, showStatus } from './feedback';
import { fileExistsHere, folder, refreshFolder } from './folder-view';
import { formatSize, shortName } from './format';
import { plainError } from './messages';
import { credentials, storage } from './session';

type UploadState = 'waiting' | 'uploading' | 'done' | 'cancelled' | 'failed' | 'skipped';

interface QueuedUpload {
  readonly file: File;
  /** The name relative to the user's folder, the current folder included. */
  readonly name: string;
  loaded: number;
  state: UploadState;
  task?: UploadTask;
  readonly item: HTMLLIElement;
  readonly progress: HTMLProgressElement;
  readonly text: HTMLSpanElement;
  readonly cancel: HTMLButtonElement;
}

const queue: QueuedUpload[] = [];
let running = false;

function describe(upload: QueuedUpload): string {
  const size = formatSize(upload.file.size);
  switch (upload.state) {
    case 'waiting':
      return `Waiting · ${size}`;
    case 'uploading':
      return `${formatSize(upload.loaded)} of ${size} (${percent(upload.loaded, upload.file.size)})`;
    case 'done':
      return `Uploaded · ${size}`;
    case 'cancelled':
      return 'Cancelled';
    case 'skipped':
      return 'Kept the existing file';
    case 'failed':
      return upload.text.dataset['reason'] ?? 'Failed';
  }
}

function percent(loaded: number, total: number): string {
  return `${total === 0 ? 100 : Math.floor((loaded / total) * 100)}%`;
}

function render(upload: QueuedUpload): void {
  upload.progress.value = upload.state === 'done' ? 1 : upload.file.size === 0 ? 0 : upload.loaded / upload.file.size;
  upload.text.textContent = describe(upload);
  upload.item.dataset['state'] = upload.state;
  upload.cancel.hidden = upload.state !== 'waiting' && upload.state !== 'uploading';
  renderOverall();
}

function renderOverall(): void {
  const active = queue.filter((upload) => upload.state !== 'cancelled' && upload.state !== 'skipped' && upload.state !== 'failed');
  const total = active.reduce((sum, upload) => sum + upload.file.size, 0);
  const loaded = active.reduce((sum, upload) => sum + (upload.state === 'done' ? upload.file.size : upload.loaded), 0);
  const remaining = active.filter((upload) => upload.state === 'waiting' || upload.state === 'uploading').length;
  ui.overallProgress.value = total === 0 ? (remaining === 0 ? 1 : 0) : loaded / total;
  ui.overallText.textContent =
    remaining === 0 ? `All uploads finished: ${formatSize(loaded)}.` : `Uploading ${remaining} ${remaining === 1 ? 'file' : 'files'}: ${formatSize(loaded)} of ${formatSize(total)} (${percent(loaded, total)}).`;
}

function createItem(file: File, name: string): QueuedUpload {
  const item = document.createElement('li');
  item.className = 'upload-item';
  item.dataset['name'] = name;
  const title = document.createElement('span');
  title.className = 'upload-name';
  title.textContent = shortName(file.name);
  title.title = file.name;
  const progress = document.createElement('progress');
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute('aria-label', `Upload of ${file.name}`);
  const text = document.createElement('span');
  text.className = 'upload-text';
  const upload = { file, name, loaded: 0, state: 'waiting' as UploadState, item, progress, text } as Omit<QueuedUpload, 'cancel'> & { cancel?: HTMLButtonElement };
  const cancel = button('Cancel', `Cancel upload of ${file.name}`, 'danger small', () => void cancelUpload(upload as QueuedUpload));
  upload.cancel = cancel;
  item.append(title, progress, text, cancel);
  return upload as QueuedUpload;
}

async function cancelUpload(upload: QueuedUpload): Promise<void> {
  if (upload.state === 'waiting') {
    upload.state = 'cancelled';
    render(upload);
    showStatus(`Cancelled ${upload.file.name}.`);
    return;
  }
  if (upload.state !== 'uploading' || !upload.task) return;
  upload.state = 'cancelled';
  render(upload);
  showStatus(`Cancelling ${upload.file.name}…`);
  try {
    await upload.task.abort();
    showStatus(`Cancelled ${upload.file.name}; nothing of it was kept.`);
  } catch {
    showStatus(`Cancelled ${upload.file.name}. The parts already sent are removed by the store within a few days.`);
  }
}

function fail(upload: QueuedUpload, error: unknown): void {
  upload.state = 'failed';
  const { message } = plainError(error);
  upload.text.dataset['reason'] = message;
  render(upload);
  showErrorText(message);
}

/** Queues files for the current folder; nothing is sent for a file that cannot be stored. */
export function enqueue(files: readonly File[]): void {
  if (files.length === 0) return;
  clearMessages();
  const prefix = credentials.cached()?.storage.prefix ?? '';
  for (const file of files) {
    const upload = createItem(file, folder() + file.name);
    queue.push(upload);
    ui.uploadList.append(upload.item);
    try {
      // The same checks the helpers make, before anything is sent: a clear reason, at once.
      keyFor(prefix, upload.name);
      checkSize(file.name, file.size);
      render(upload);
    } catch (error) {
      fail(upload, error);
    }
  }
  ui.uploads.hidden = false;
  renderOverall();
  void drain();
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let next = queue.find((upload) => upload.state === 'waiting'); next; next = queue.find((upload) => upload.state === 'waiting')) {
      await send(next);
    }
  } finally {
    running = false;
  }
  await refreshFolder().catch(() => undefined);
}

async function send(upload: QueuedUpload): Promise<void> {
  const exists = fileExistsHere(upload.name) || (await storage.stat(upload.name).catch(() => undefined)) !== undefined;
  if (exists && !window.confirm(`"${upload.file.name}" already exists in this folder. Replace it?`)) {
    upload.state = 'skipped';
    render(upload);
    return;
  }
  if (upload.state !== 'waiting') return;
  upload.state = 'uploading';
  render(upload);
  upload.task = storage.upload(upload.name, upload.file, {
    contentType: upload.file.type || 'application/octet-stream',
    onProgress: ({ loadedBytes }) => {
      upload.loaded = loadedBytes;
      if (upload.state === 'uploading') render(upload);
    },
  });
  try {
    await upload.task.done;
    upload.state = 'done';
    upload.loaded = upload.file.size;
    render(upload);
    showStatus(`Uploaded ${upload.file.name}.`);
  } catch (error) {
    // Cancel changed the state meanwhile (TypeScript cannot see that across the await).
    if ((upload.state as UploadState) === 'cancelled') return;
    fail(upload, error);
  }
}

/** Stops every upload (on logout, or when the session has ended). */
export async function cancelAll(): Promise<void> {
  await Promise.all(queue.filter((upload) => upload.state === 'waiting' || upload.state === 'uploading').map((upload) => cancelUpload(upload)));
}

/** Wires the file picker and the drop zone. */
export function wireUploads(): void {
  ui.fileInput.addEventListener('change', () => {
    enqueue([...(ui.fileInput.files ?? [])]);
    ui.fileInput.value = '';
  });
  // A file dropped beside the zone must not make the browser leave the app to show it.
  for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (event) => event.preventDefault());
  const zone = ui.dropZone;
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    enqueue([...(event.dataTransfer?.files ?? [])]);
  });
}
