/**
 * The folder the person is in: breadcrumbs, up, sub-folders to open, files to download or
 * delete, and a new folder. Folders are S3 prefixes; names are relative to the user's folder.
 */
import type { FileInfo, ListPage } from '@serverless-tvm/client/storage';
import { button, ui } from './dom';
import { showStatus } from './feedback';
import { formatSize } from './format';
import { storage } from './session';

/** The folder shown, relative, `''` for the top or ending in `/`. */
let currentFolder = '';
/** Names of the files in the current folder, for the overwrite check. */
let currentFiles = new Set<string>();

export function folder(): string {
  return currentFolder;
}

export function fileExistsHere(name: string): boolean {
  return currentFiles.has(name);
}

/** The last segment of a relative name: `photos/2026/` gives `2026`. */
function baseName(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Runs `action` and reports a failure through `onError`; set by the app. */
let guard: (control: HTMLButtonElement, action: () => Promise<void>) => void = () => undefined;

export function setGuard(run: typeof guard): void {
  guard = run;
}

function renderBreadcrumbs(): void {
  const parts = currentFolder === '' ? [] : currentFolder.slice(0, -1).split('/');
  const crumbs: HTMLLIElement[] = [];
  const addCrumb = (label: string, target: string, isCurrent: boolean): void => {
    const item = document.createElement('li');
    if (isCurrent) {
      const here = document.createElement('span');
      here.textContent = label;
      here.setAttribute('aria-current', 'location');
      item.append(here);
    } else {
      item.append(button(label, `Open ${label === 'My files' ? 'your top folder' : `folder ${label}`}`, 'link', (control) => guard(control, () => openFolder(target))));
    }
    crumbs.push(item);
  };
  addCrumb('My files', '', parts.length === 0);
  parts.forEach((part, index) => addCrumb(part, `${parts.slice(0, index + 1).join('/')}/`, index === parts.length - 1));
  ui.breadcrumbs.replaceChildren(...crumbs);
  ui.upButton.hidden = parts.length === 0;
}

function fileItem(file: FileInfo): HTMLLIElement {
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
  meta.textContent = [formatSize(file.sizeBytes), file.lastModified?.toLocaleString() ?? ''].filter(Boolean).join(' · ');
  details.append(name, meta);
  const actions = document.createElement('div');
  actions.className = 'entry-actions';
  const label = baseName(file.name);
  actions.append(
    button('Download', `Download ${label}`, 'secondary small', (control) => guard(control, () => download(file))),
    button('Delete', `Delete ${label}`, 'danger small', (control) => guard(control, () => remove(file))),
  );
  item.append(details, actions);
  return item;
}

function folderItem(name: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'entry folder';
  item.dataset['name'] = name;
  const label = baseName(name);
  const open = button(`${label}/`, `Open folder ${label}`, 'link entry-name', (control) => guard(control, () => openFolder(name)));
  item.append(open);
  return item;
}

function render(pages: readonly ListPage[]): void {
  const folders = pages.flatMap((page) => page.folders);
  const files = pages.flatMap((page) => page.files).sort((a, b) => a.name.localeCompare(b.name));
  currentFiles = new Set(files.map((file) => file.name));
  ui.entries.replaceChildren(...folders.map(folderItem), ...files.map(fileItem));
  ui.emptyFolder.hidden = folders.length + files.length > 0;
  renderBreadcrumbs();
}

/** Lists the current folder again, every page of it. */
export async function refreshFolder(): Promise<void> {
  const pages: ListPage[] = [];
  for await (const page of storage.pages({ folder: currentFolder })) pages.push(page);
  render(pages);
}

export async function openFolder(target: string): Promise<void> {
  const previous = currentFolder;
  currentFolder = target;
  try {
    await refreshFolder();
  } catch (error) {
    currentFolder = previous;
    throw error;
  }
  showStatus(target === '' ? 'Opened your top folder.' : `Opened folder ${target}.`);
  ui.breadcrumbs.querySelector<HTMLElement>('[aria-current]')?.setAttribute('tabindex', '-1');
  ui.breadcrumbs.querySelector<HTMLElement>('[aria-current]')?.focus();
}

export async function goUp(): Promise<void> {
  const parts = currentFolder.slice(0, -1).split('/');
  parts.pop();
  await openFolder(parts.length === 0 ? '' : `${parts.join('/')}/`);
}

export async function createFolder(name: string): Promise<void> {
  const created = await storage.createFolder(currentFolder + name.trim().replace(/\/+$/, ''));
  await refreshFolder();
  showStatus(`Created folder ${baseName(created)}.`);
}

/** Forgets the folder on logout, so the next person starts at the top. */
export function resetFolder(): void {
  currentFolder = '';
  currentFiles = new Set();
  ui.entries.replaceChildren();
}

async function download(file: FileInfo): Promise<void> {
  showStatus(`Downloading ${baseName(file.name)}…`);
  const object = await storage.download(file.name);
  // Through a Response into a Blob: the browser keeps a large file on disk, not in the page's memory.
  const blob = await new Response(object.body.transformToWebStream(), { headers: { 'content-type': object.contentType ?? 'application/octet-stream' } }).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = baseName(file.name);
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken its copy once the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  showStatus(`Downloaded ${baseName(file.name)}.`);
}

async function remove(file: FileInfo): Promise<void> {
  if (!window.confirm(`Delete "${baseName(file.name)}"? This cannot be undone.`)) return;
  await storage.delete(file.name);
  await refreshFolder();
  showStatus(`Deleted ${baseName(file.name)}.`);
  ui.fileInput.focus();
}
