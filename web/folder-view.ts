/**
 * The folder the person is in: breadcrumbs, up, sub-folders to open, files to download or
 * delete, rename or move, share (a file or folder) and copy a link (a file), a new folder, and
 * deleting a folder. Folders are S3 prefixes; names
 * are relative to the user's folder.
 */
import type { FileInfo, ListPage } from '@serverless-tvm/client/storage';
import { button, ui } from './dom';
import { countFiles, deleteFolder, moveFile, targetName } from './file-actions';
import { showStatus } from './feedback';
import { formatSize } from './format';
import { storage } from './session';
import { copyLink, openShareForm } from './sharing';

/** The folder shown, relative, `''` for the top or ending in `/`. */
let currentFolder = '';
/** Names of the files in the current folder, for the overwrite check. */
let currentFiles = new Set<string>();
/** Bumped at logout: a listing that answers after it belongs to the person who left, and is dropped. */
let generation = 0;
/** Object URLs of downloads not yet revoked; logout revokes them. */
const objectUrls = new Set<string>();
/** Told when a folder has been shown (the upload list follows the folder). */
let onShown: () => void = () => undefined;

export function setFolderShownListener(listener: () => void): void {
  onShown = listener;
}

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
      item.append(
        button(
          label,
          `Open ${label === 'My files' ? 'My files, your top folder' : `folder ${label}`}`,
          'link',
          (control) => guard(control, () => openFolder(target)),
        ),
      );
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
  meta.textContent = [formatSize(file.sizeBytes), file.lastModified?.toLocaleString() ?? '']
    .filter(Boolean)
    .join(' · ');
  details.append(name, meta);
  const actions = document.createElement('div');
  actions.className = 'entry-actions';
  const label = baseName(file.name);
  actions.append(
    button('Download', `Download ${label}`, 'secondary small', (control) => guard(control, () => download(file))),
    button('Rename or move', `Rename or move ${label}`, 'secondary small', () => openRenameForm(file, item, actions)),
    button('Share', `Share ${label}`, 'secondary small', () => openShareForm(file.name, label, item, actions)),
    button('Copy link', `Copy link to ${label}`, 'secondary small', (control) => copyLink(file.name, label, control)),
    button('Delete', `Delete ${label}`, 'danger small', (control) => guard(control, () => remove(file))),
  );
  item.append(details, actions);
  return item;
}

/** An inline form in the file's row: a new name here, or a path from the top folder to move it. */
function openRenameForm(file: FileInfo, item: HTMLLIElement, actions: HTMLElement): void {
  const label = baseName(file.name);
  const form = document.createElement('form');
  form.className = 'rename-form inline-row';
  form.noValidate = true;
  const inputId = `rename-${Math.random().toString(36).slice(2)}`;
  const caption = document.createElement('label');
  caption.htmlFor = inputId;
  caption.textContent = `New name for ${label} (a path such as photos/${label} moves it)`;
  const input = document.createElement('input');
  input.id = inputId;
  input.autocomplete = 'off';
  input.spellcheck = false;
  input.value = file.name;
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = 'Save';
  save.setAttribute('aria-label', `Save the new name of ${label}`);
  const close = (): void => {
    form.remove();
    actions.hidden = false;
    actions.querySelector<HTMLButtonElement>('button')?.focus();
  };
  const cancel = button('Cancel', `Cancel renaming ${label}`, 'secondary', close);
  form.append(caption, input, save, cancel);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guard(save, async () => {
      const target = targetName(input.value, currentFolder);
      if (target === file.name) {
        close();
        return;
      }
      if (
        (await storage.stat(target)) !== undefined &&
        !window.confirm(`"${target}" already exists. Replace it with ${label}?`)
      )
        return;
      await moveFile(file.name, target, file.sizeBytes);
      await refreshFolder();
      const sameFolder = target.slice(0, target.lastIndexOf('/') + 1) === currentFolder;
      showStatus(sameFolder ? `Renamed ${label} to ${baseName(target)}.` : `Moved ${label} to ${target}.`);
      ui.fileInput.focus();
    });
  });
  actions.hidden = true;
  item.append(form);
  input.focus();
  input.setSelectionRange(file.name.length - label.length, file.name.length);
}

function folderItem(name: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'entry folder';
  item.dataset['name'] = name;
  const label = baseName(name);
  const open = button(`${label}/`, `Open folder ${label}`, 'link entry-name', (control) =>
    guard(control, () => openFolder(name)),
  );
  const actions = document.createElement('div');
  actions.className = 'entry-actions';
  actions.append(
    button('Share', `Share folder ${label}`, 'secondary small', () => openShareForm(name, `${label}/`, item, actions)),
    button('Delete folder', `Delete folder ${label}`, 'danger small', (control) =>
      guard(control, () => removeFolder(name)),
    ),
  );
  item.append(open, actions);
  return item;
}

async function removeFolder(name: string): Promise<void> {
  const label = baseName(name);
  const files = await countFiles(name);
  const contents =
    files === 0
      ? 'It is empty.'
      : `Everything in it goes: ${files} ${files === 1 ? 'file' : 'files'}, sub-folders included.`;
  if (!window.confirm(`Delete folder "${label}"? ${contents} This cannot be undone.`)) return;
  await deleteFolder(name);
  await refreshFolder();
  showStatus(`Deleted folder ${label} and the ${files} ${files === 1 ? 'file' : 'files'} in it.`);
  ui.fileInput.focus();
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
  const started = generation;
  const pages: ListPage[] = [];
  for await (const page of storage.pages({ folder: currentFolder })) pages.push(page);
  if (started !== generation) return;
  render(pages);
  onShown();
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

/** Forgets the folder, its names and its downloads on logout, so the next person starts at the top with nothing of this one's. */
export function resetFolder(): void {
  generation++;
  currentFolder = '';
  currentFiles = new Set();
  ui.entries.replaceChildren();
  ui.breadcrumbs.replaceChildren();
  ui.emptyFolder.hidden = true;
  ui.upButton.hidden = true;
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls.clear();
}

async function download(file: FileInfo): Promise<void> {
  showStatus(`Downloading ${baseName(file.name)}…`);
  const started = generation;
  const object = await storage.download(file.name);
  // Through a Response into a Blob: the browser keeps a large file on disk, not in the page's memory.
  const blob = await new Response(object.body.transformToWebStream(), {
    headers: { 'content-type': object.contentType ?? 'application/octet-stream' },
  }).blob();
  // Logged out meanwhile: the file was the last person's; the next one must not receive it.
  if (started !== generation) return;
  const url = URL.createObjectURL(blob);
  objectUrls.add(url);
  const link = document.createElement('a');
  link.href = url;
  link.download = baseName(file.name);
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken its copy once the click has been handled.
  setTimeout(() => {
    URL.revokeObjectURL(url);
    objectUrls.delete(url);
  }, 60_000);
  showStatus(`Downloaded ${baseName(file.name)}.`);
}

async function remove(file: FileInfo): Promise<void> {
  if (!window.confirm(`Delete "${baseName(file.name)}"? This cannot be undone.`)) return;
  await storage.delete(file.name);
  await refreshFolder();
  showStatus(`Deleted ${baseName(file.name)}.`);
  ui.fileInput.focus();
}
