/** The page element with this id, typed; a missing one is a bug in index.html, so it throws. */
export function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}.`);
  return found as T;
}

export const ui = {
  main: element<HTMLElement>('main'),
  error: element<HTMLDivElement>('error'),
  status: element<HTMLDivElement>('status'),
  offlineBanner: element<HTMLDivElement>('offline-banner'),
  account: element<HTMLDivElement>('account'),
  accountName: element<HTMLElement>('account-name'),
  expiry: element<HTMLSpanElement>('credentials-expiry'),
  logoutButton: element<HTMLButtonElement>('logout-button'),
  authView: element<HTMLElement>('auth-view'),
  authForm: element<HTMLFormElement>('auth-form'),
  username: element<HTMLInputElement>('username'),
  password: element<HTMLInputElement>('password'),
  loginButton: element<HTMLButtonElement>('login-button'),
  filesView: element<HTMLElement>('files-view'),
  refreshButton: element<HTMLButtonElement>('refresh-button'),
  newFolderButton: element<HTMLButtonElement>('new-folder-button'),
  folderForm: element<HTMLFormElement>('folder-form'),
  folderName: element<HTMLInputElement>('folder-name'),
  folderCancel: element<HTMLButtonElement>('folder-cancel'),
  upButton: element<HTMLButtonElement>('up-button'),
  breadcrumbs: element<HTMLOListElement>('breadcrumbs'),
  dropZone: element<HTMLDivElement>('drop-zone'),
  fileInput: element<HTMLInputElement>('file-input'),
  uploads: element<HTMLElement>('uploads'),
  overallText: element<HTMLSpanElement>('overall-text'),
  overallProgress: element<HTMLProgressElement>('overall-progress'),
  uploadList: element<HTMLUListElement>('upload-list'),
  clearUploadsButton: element<HTMLButtonElement>('clear-uploads-button'),
  entries: element<HTMLUListElement>('entries'),
  emptyFolder: element<HTMLParagraphElement>('empty-folder'),
};

/** A button with visible text and, where the text alone is ambiguous, a fuller accessible name. */
export function button(
  label: string,
  accessibleName: string,
  className: string,
  onClick: (button: HTMLButtonElement) => void,
): HTMLButtonElement {
  const created = document.createElement('button');
  created.type = 'button';
  created.textContent = label;
  created.className = className;
  if (accessibleName !== label) created.setAttribute('aria-label', accessibleName);
  created.addEventListener('click', () => onClick(created));
  return created;
}
