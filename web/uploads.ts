/**
 * The upload queue: files from the picker or a drop go up one after another (each in parallel
 * parts), each with its own progress bar and Cancel button, under one overall bar. A file of
 * the same name asks before it replaces; one that cannot be stored says why, with the limit.
 * The list shows the current folder's uploads only; finished ones go with "Clear list" or when
 * the person opens another folder, and logout forgets them all.
 */
import { checkSize, keyFor, type UploadTask } from '@serverless-tvm/client/storage';
import { button, ui } from './dom';
import { clearMessages, showErrorText, showStatus } from './feedback';
import { fileExistsHere, folder, refreshFolder } from './folder-view';
import { formatSize, shortName } from './format';
import { plainError } from './messages';
import { credentials, storage, uploadStorage } from './session';

type UploadState = 'waiting' | 'uploading' | 'done' | 'cancelled' | 'failed' | 'skipped';

interface QueuedUpload {
  readonly file: File;
  /** The name relative to the user's folder, the current folder included. */
  readonly name: string;
  /** The folder it goes into (relative, `''` for the top). */
  readonly folder: string;
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

function isActive(upload: QueuedUpload): boolean {
  return upload.state === 'waiting' || upload.state === 'uploading';
}

function count(n: number, what: string): string {
  return `${n} ${what}`;
}

/** The summary line of the current folder's uploads; it never calls a cancelled queue "finished: 0 B". */
function summary(shown: readonly QueuedUpload[]): { text: string; value: number } {
  const sending = shown.filter((upload) => isActive(upload) || upload.state === 'done');
  const total = sending.reduce((sum, upload) => sum + upload.file.size, 0);
  const loaded = sending.reduce((sum, upload) => sum + (upload.state === 'done' ? upload.file.size : upload.loaded), 0);
  const remaining = shown.filter(isActive).length;
  if (remaining > 0) {
    return {
      text: `Uploading ${count(remaining, remaining === 1 ? 'file' : 'files')}: ${formatSize(loaded)} of ${formatSize(total)} (${percent(loaded, total)}).`,
      value: total === 0 ? 0 : loaded / total,
    };
  }
  const done = shown.filter((upload) => upload.state === 'done');
  const others = [
    [shown.filter((upload) => upload.state === 'cancelled').length, 'cancelled'],
    [shown.filter((upload) => upload.state === 'failed').length, 'failed'],
    [shown.filter((upload) => upload.state === 'skipped').length, 'kept the existing file'],
  ] as const;
  const notes = others.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  if (notes.length === 0) return { text: `All uploads finished: ${formatSize(loaded)}.`, value: 1 };
  if (done.length === 0) return { text: `No files uploaded: ${notes.join(', ')}.`, value: 0 };
  return { text: `Uploads finished: ${done.length} uploaded (${formatSize(loaded)}), ${notes.join(', ')}.`, value: 1 };
}

function renderOverall(): void {
  const here = folder();
  const shown = queue.filter((upload) => upload.folder === here);
  const elsewhere = queue.filter((upload) => upload.folder !== here && isActive(upload)).length;
  const { text, value } = summary(shown);
  ui.overallProgress.value = value;
  ui.overallText.textContent =
    elsewhere === 0
      ? text
      : `${shown.length > 0 ? `${text} ` : ''}${count(elsewhere, elsewhere === 1 ? 'upload' : 'uploads')} under way in other folders.`;
  ui.uploads.hidden = queue.length === 0 || (shown.length === 0 && elsewhere === 0);
  ui.clearUploadsButton.hidden = !shown.some((upload) => !isActive(upload));
}

/** Shows the current folder's uploads and drops the finished ones of other folders (on opening a folder). */
export function showFolderUploads(): void {
  const here = folder();
  for (const upload of [...queue]) {
    if (upload.folder !== here && !isActive(upload)) remove(upload);
  }
  for (const upload of queue) upload.item.hidden = upload.folder !== here;
  renderOverall();
}

function remove(upload: QueuedUpload): void {
  queue.splice(queue.indexOf(upload), 1);
  upload.item.remove();
}

/** "Clear list": removes this folder's finished uploads from the list. */
function clearFinished(): void {
  const here = folder();
  for (const upload of [...queue]) {
    if (upload.folder === here && !isActive(upload)) remove(upload);
  }
  renderOverall();
  showStatus('Cleared the finished uploads from the list.');
  ui.fileInput.focus();
}

/** How many uploads are waiting or under way, in any folder (logout asks before it cancels them). */
export function activeUploads(): number {
  return queue.filter(isActive).length;
}

/** Forgets every upload and its names (at logout or when the session ends); cancel them first. */
export function forgetUploads(): void {
  for (const upload of [...queue]) remove(upload);
  ui.uploadList.replaceChildren();
  ui.overallText.textContent = '';
  ui.overallProgress.value = 0;
  ui.uploads.hidden = true;
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
  const upload = {
    file,
    name,
    folder: folder(),
    loaded: 0,
    state: 'waiting' as UploadState,
    item,
    progress,
    text,
  } as Omit<QueuedUpload, 'cancel'> & { cancel?: HTMLButtonElement };
  const cancel = button(
    'Cancel',
    `Cancel upload of ${file.name}`,
    'danger small',
    () => void cancelUpload(upload as QueuedUpload),
  );
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
  renderOverall();
  void drain();
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (
      let next = queue.find((upload) => upload.state === 'waiting');
      next;
      next = queue.find((upload) => upload.state === 'waiting')
    ) {
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
  upload.task = uploadStorage.upload(upload.name, upload.file, {
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
  await Promise.all(
    queue
      .filter((upload) => upload.state === 'waiting' || upload.state === 'uploading')
      .map((upload) => cancelUpload(upload)),
  );
}

/** Wires the file picker and the drop zone. */
export function wireUploads(): void {
  ui.clearUploadsButton.addEventListener('click', clearFinished);
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
