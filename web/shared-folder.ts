/**
 * A share received, opened: its folders and files (names relative to the shared folder),
 * download, and for a read-write share uploads into it, all with the share's own credentials
 * (`ShareStorage` over `fromShare`), never the person's own. A file share downloads at once.
 * A share found over (revoked, left, expired) closes the view and the lists are read again.
 */
import { ShareEndedError, type ShareSummary } from '@serverless-tvm/client';
import { ShareStorage, type Download, type FileInfo, type ListPage } from '@serverless-tvm/client/storage';
import { button, element } from './dom';
import { showStatus } from './feedback';
import { formatSize } from './format';
import { tvm } from './session';

/** The app's wrapper for an action: the button disabled meanwhile, a failure reported in plain words. */
export type Busy = (control: HTMLButtonElement, action: () => Promise<void>) => Promise<void>;

const ui = {
  view: element<HTMLElement>('shared-folder'),
  title: element<HTMLHeadingElement>('shared-folder-title'),
  hint: element<HTMLParagraphElement>('shared-folder-hint'),
  up: element<HTMLButtonElement>('shared-up'),
  close: element<HTMLButtonElement>('shared-close'),
  upload: element<HTMLDivElement>('shared-upload'),
  fileInput: element<HTMLInputElement>('shared-file-input'),
  entries: element<HTMLUListElement>('shared-entries'),
  empty: element<HTMLParagraphElement>('shared-empty'),
};

interface Open {
  readonly share: ShareSummary;
  readonly storage: ShareStorage;
  folder: string;
  files: Set<string>;
}

let open: Open | undefined;
let generation = 0;
const objectUrls = new Set<string>();
let listener: { busy: Busy; ended: () => void } = { busy: async () => undefined, ended: () => undefined };

export function setSharedListener(options: { busy: Busy; ended: () => void }): void {
  listener = options;
}

function baseName(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function ownerWords(share: ShareSummary): string {
  return share.path === '' ? `${share.owner}'s files` : `${share.owner}'s ${share.path}`;
}

/** Runs an action on the open share; a share found over closes the view before the error is reported. */
async function onShare<T>(action: (current: Open) => Promise<T>): Promise<T | undefined> {
  const current = open;
  if (!current) return undefined;
  try {
    return await action(current);
  } catch (error) {
    if (error instanceof ShareEndedError) {
      closeShared(current.share.id);
      listener.ended();
    }
    throw error;
  }
}

function fileRow(file: FileInfo): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'entry file';
  item.dataset['name'] = file.name;
  const details = document.createElement('div');
  details.className = 'entry-details';
  const name = document.createElement('span');
  name.className = 'entry-name';
  name.textContent = baseName(file.name);
  const meta = document.createElement('span');
  meta.className = 'entry-meta';
  meta.textContent = [formatSize(file.sizeBytes), file.lastModified?.toLocaleString() ?? '']
    .filter(Boolean)
    .join(' · ');
  details.append(name, meta);
  const actions = document.createElement('div');
  actions.className = 'entry-actions';
  const label = baseName(file.name);
  actions.append(
    button(
      'Download',
      `Download shared file ${label}`,
      'secondary small',
      (control) =>
        void listener.busy(control, async () => {
          await onShare((current) => save(current, file.name));
        }),
    ),
  );
  if (open?.share.access === 'readwrite') {
    actions.append(
      button(
        'Delete',
        `Delete shared file ${label}`,
        'danger small',
        (control) =>
          void listener.busy(control, async () => {
            await onShare(async (current) => {
              if (!window.confirm(`Delete "${label}" from ${ownerWords(current.share)}? This cannot be undone.`))
                return;
              await current.storage.delete(file.name);
              await show(current.folder);
              showStatus(`Deleted ${label}.`);
            });
          }),
      ),
    );
  }
  item.append(details, actions);
  return item;
}

function folderRow(name: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'entry folder';
  item.dataset['name'] = name;
  const label = baseName(name);
  item.append(
    button(
      `${label}/`,
      `Open shared folder ${label}`,
      'link entry-name',
      (control) => void listener.busy(control, () => show(name)),
    ),
  );
  return item;
}

function render(current: Open, pages: readonly ListPage[]): void {
  const folders = pages.flatMap((page) => page.folders);
  const files = pages.flatMap((page) => page.files).sort((a, b) => a.name.localeCompare(b.name));
  current.files = new Set(files.map((file) => file.name));
  ui.entries.replaceChildren(...folders.map(folderRow), ...files.map(fileRow));
  ui.empty.hidden = folders.length + files.length > 0;
  ui.title.textContent = `${ownerWords(current.share)}${current.folder}`;
  ui.up.hidden = current.folder === '';
}

/** Lists `folder` (relative to the share) of the open share. */
async function show(folder: string): Promise<void> {
  await onShare(async (current) => {
    const started = generation;
    const pages: ListPage[] = [];
    for await (const page of current.storage.pages({ folder })) pages.push(page);
    if (started !== generation || open !== current) return;
    current.folder = folder;
    render(current, pages);
  });
}

/** Opens a share received: a folder is listed here; a file share downloads its one file. */
export async function openShared(share: ShareSummary): Promise<void> {
  closeShared();
  const storage = new ShareStorage({ client: tvm, shareId: share.id, share: { expiresAt: share.expiresAt } });
  const current: Open = { share, storage, folder: '', files: new Set() };
  open = current;
  const info = await onShare((opened) => opened.storage.info());
  if (!info) return;
  if (info.kind === 'file') {
    try {
      await onShare((opened) => save(opened, baseName(share.path)));
    } finally {
      closeShared(share.id);
    }
    return;
  }
  const writable = info.access === 'readwrite';
  ui.upload.hidden = !writable;
  ui.hint.textContent = writable
    ? `You can view, download, upload and delete files here${share.expiresAt ? ` until ${new Date(share.expiresAt).toLocaleString()}` : ''}.`
    : `You can view and download files here${share.expiresAt ? ` until ${new Date(share.expiresAt).toLocaleString()}` : ''}.`;
  await show('');
  ui.view.hidden = false;
  ui.title.focus();
  showStatus(`Opened ${ownerWords(share)}.`);
}

/** The id of the share open now, if any. */
export function openShareId(): string | undefined {
  return open?.share.id;
}

/** Closes the open share (only `shareId`'s, when given) and drops its credentials. */
export function closeShared(shareId?: string): void {
  if (!open || (shareId !== undefined && open.share.id !== shareId)) return;
  generation++;
  open.storage.dispose();
  open = undefined;
  ui.view.hidden = true;
  ui.entries.replaceChildren();
  ui.title.textContent = '';
  ui.hint.textContent = '';
  ui.upload.hidden = true;
  ui.empty.hidden = true;
}

/** Forgets the open share and its downloads (logout). */
export function resetShared(): void {
  closeShared();
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls.clear();
}

async function save(current: Open, name: string): Promise<void> {
  const label = baseName(name);
  showStatus(`Downloading ${label}…`);
  const started = generation;
  const object: Download = await current.storage.download(name);
  const blob = await new Response(object.body.transformToWebStream(), {
    headers: { 'content-type': object.contentType ?? 'application/octet-stream' },
  }).blob();
  // Closed or logged out meanwhile: the file is not handed to whoever uses the page now.
  if (started !== generation) return;
  const url = URL.createObjectURL(blob);
  objectUrls.add(url);
  const link = document.createElement('a');
  link.href = url;
  link.download = label;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    objectUrls.delete(url);
  }, 60_000);
  showStatus(`Downloaded ${label}.`);
}

async function uploadChosen(files: readonly File[]): Promise<void> {
  await onShare(async (current) => {
    let done = 0;
    for (const file of files) {
      const name = current.folder + file.name;
      if (current.files.has(name) && !window.confirm(`"${file.name}" already exists here. Replace it?`)) continue;
      showStatus(`Uploading ${file.name}…`);
      await current.storage.upload(name, file, { contentType: file.type || 'application/octet-stream' }).done;
      done++;
    }
    await show(current.folder);
    showStatus(`Uploaded ${done} ${done === 1 ? 'file' : 'files'} to ${ownerWords(current.share)}${current.folder}.`);
  });
}

ui.close.addEventListener('click', () => {
  closeShared();
  showStatus('Closed the shared folder.');
});

ui.up.addEventListener('click', () => {
  const current = open;
  if (!current) return;
  const parts = current.folder.slice(0, -1).split('/');
  parts.pop();
  void listener.busy(ui.up, () => show(parts.length === 0 ? '' : `${parts.join('/')}/`));
});

ui.fileInput.addEventListener('change', () => {
  const files = [...(ui.fileInput.files ?? [])];
  ui.fileInput.value = '';
  if (files.length === 0) return;
  const label = ui.upload.querySelector<HTMLElement>('label');
  void listener.busy(ui.close, () => uploadChosen(files)).finally(() => label?.focus());
});
