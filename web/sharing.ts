/**
 * Sharing: the Share form on a file or folder (a user, view or view-and-change, an optional
 * end), Copy link on a file, and the Sharing card's lists: shared with me (open, leave), shared
 * by me (stop sharing) and links (copy again, revoke). Browsing a share received is
 * shared-folder.ts. Every call goes through the client's TvmShares and TvmLinks.
 */
import { NotFoundError, TvmLinks, TvmShares, type LinkSummary, type ShareSummary } from '@serverless-tvm/client';
import { button, element } from './dom';
import { clearMessages, showErrorText, showStatus } from './feedback';
import { plainError } from './messages';
import { tvm } from './session';
import { closeShared, openShared, openShareId, resetShared, setSharedListener, type Busy } from './shared-folder';

const shares = new TvmShares(tvm);
const links = new TvmLinks(tvm);

const ui = {
  view: element<HTMLElement>('sharing-view'),
  refresh: element<HTMLButtonElement>('sharing-refresh'),
  state: element<HTMLParagraphElement>('sharing-state'),
  receivedList: element<HTMLUListElement>('received-list'),
  receivedEmpty: element<HTMLParagraphElement>('received-empty'),
  givenList: element<HTMLUListElement>('given-list'),
  givenEmpty: element<HTMLParagraphElement>('given-empty'),
  linkList: element<HTMLUListElement>('link-list'),
  linksEmpty: element<HTMLParagraphElement>('links-empty'),
};

let busy: Busy = async () => undefined;
/** Bumped at logout: lists that answer after it belong to the person who left. */
let generation = 0;

/** "photos/" or "all your files", as the owner reads a path of theirs. */
function ownPath(path: string): string {
  return path === '' ? 'all your files' : path;
}

/** "alice's photos/", as a grantee reads a share. */
export function sharedName(share: ShareSummary): string {
  return share.path === '' ? `all of ${share.owner}'s files` : `${share.owner}'s ${share.path}`;
}

function accessWords(share: ShareSummary): string {
  return share.access === 'readwrite' ? 'can view and change' : 'can view';
}

function endWords(expiresAt: string | null, fallback: string): string {
  return expiresAt === null ? fallback : `until ${new Date(expiresAt).toLocaleString()}`;
}

function lastUse(at: string | undefined, by: string | undefined, verb: string): string {
  return at === undefined
    ? `never ${verb} yet`
    : `last ${verb} ${new Date(at).toLocaleString()}${by ? ` by ${by}` : ''}`;
}

function row(title: string, meta: string, actions: HTMLElement[], data: Record<string, string>): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'entry';
  Object.assign(item.dataset, data);
  const details = document.createElement('div');
  details.className = 'entry-details';
  const name = document.createElement('span');
  name.className = 'entry-name';
  name.textContent = title;
  const metaText = document.createElement('span');
  metaText.className = 'entry-meta';
  metaText.textContent = meta;
  details.append(name, metaText);
  const actionBox = document.createElement('div');
  actionBox.className = 'entry-actions';
  actionBox.append(...actions);
  item.append(details, actionBox);
  return item;
}

/** Runs a sharing action: messages cleared, the button busy, a failure reported by the app. */
function act(control: HTMLButtonElement, action: () => Promise<void>): void {
  clearMessages();
  void busy(control, action);
}

function receivedItem(share: ShareSummary): HTMLLIElement {
  const name = sharedName(share);
  const isFile = share.path !== '' && !share.path.endsWith('/');
  return row(
    name,
    [accessWords(share), endWords(share.expiresAt, 'until they stop sharing it')].join(' · '),
    [
      button(isFile ? 'Download' : 'Open', `${isFile ? 'Download' : 'Open'} ${name}`, 'secondary small', (control) =>
        act(control, () => openShared(share)),
      ),
      button('Leave', `Leave ${name}`, 'secondary small', (control) =>
        act(control, async () => {
          await gone(() => shares.leave(share.id));
          closeShared(share.id);
          await refreshSharing();
          showStatus(`You left ${name}.`);
        }),
      ),
    ],
    { shareId: share.id },
  );
}

function givenItem(share: ShareSummary): HTMLLIElement {
  const what = ownPath(share.path);
  return row(
    `${what} with ${share.grantee}`,
    [
      accessWords(share),
      endWords(share.expiresAt, 'until you stop it'),
      lastUse(share.lastUsedAt, share.lastUsedBy, 'used'),
    ].join(' · '),
    [
      button('Stop sharing', `Stop sharing ${what} with ${share.grantee}`, 'danger small', (control) =>
        act(control, async () => {
          await gone(() => shares.revoke(share.id));
          await refreshSharing();
          showStatus(`${share.grantee} can no longer open ${what}.`);
        }),
      ),
    ],
    { shareId: share.id },
  );
}

function linkItem(link: LinkSummary): HTMLLIElement {
  const item = row(
    link.path,
    [endWords(link.expiresAt, 'until you revoke it'), lastUse(link.lastUsedAt, link.lastUsedBy, 'opened')].join(' · '),
    [
      button('Copy', `Copy the link to ${link.path}`, 'secondary small', (control) =>
        act(control, async () => {
          showStatus(
            (await copy(link.url))
              ? `Copied the link to ${link.path}.`
              : `Select the link to ${link.path} in the list and copy it.`,
          );
        }),
      ),
      button('Revoke', `Revoke the link to ${link.path}`, 'danger small', (control) =>
        act(control, async () => {
          await gone(() => links.revoke(link.id));
          await refreshSharing();
          showStatus(`The link to ${link.path} no longer works.`);
        }),
      ),
    ],
    { linkId: link.id, path: link.path },
  );
  const inputId = `link-${link.id.slice(0, 8)}-${Math.random().toString(36).slice(2, 8)}`;
  const label = document.createElement('label');
  label.htmlFor = inputId;
  label.className = 'visually-hidden';
  label.textContent = `Link to ${link.path}`;
  const input = document.createElement('input');
  input.id = inputId;
  input.className = 'link-url';
  input.readOnly = true;
  input.value = link.url;
  input.addEventListener('focus', () => input.select());
  item.querySelector('.entry-details')?.append(label, input);
  return item;
}

/** A revoke of something already gone (another tab, a retry) is done, not a failure. */
async function gone(revoke: () => Promise<void>): Promise<void> {
  try {
    await revoke();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard here (permission, an insecure page): the link stays in the list to copy by hand.
    return false;
  }
}

/** Reads the shares and links again and shows them. */
export async function refreshSharing(): Promise<void> {
  const started = generation;
  const [shareList, linkList] = await Promise.all([shares.list(), links.list()]);
  if (started !== generation) return;
  ui.receivedList.replaceChildren(...shareList.received.map(receivedItem));
  ui.receivedEmpty.hidden = shareList.received.length > 0;
  ui.givenList.replaceChildren(...shareList.given.map(givenItem));
  ui.givenEmpty.hidden = shareList.given.length > 0;
  ui.linkList.replaceChildren(...linkList.links.map(linkItem));
  ui.linksEmpty.hidden = linkList.links.length > 0;
  ui.state.textContent = '';
  // A share open here that the list no longer has (revoked, left, expired) closes.
  const openId = openShareId();
  if (openId !== undefined && !shareList.received.some((share) => share.id === openId)) closeShared(openId);
}

/** Shows the card after a login and loads it; a failure stays in the card (the files still work). */
export function showSharing(): void {
  resetSharing();
  ui.view.hidden = false;
  const started = generation;
  void refreshSharing().catch((error: unknown) => {
    if (started === generation) ui.state.textContent = `Sharing could not be loaded. ${plainError(error).message}`;
  });
}

/** Hides the card and forgets everything it showed (logout, session ended). */
export function resetSharing(): void {
  generation++;
  ui.view.hidden = true;
  ui.state.textContent = '';
  for (const list of [ui.receivedList, ui.givenList, ui.linkList]) list.replaceChildren();
  for (const empty of [ui.receivedEmpty, ui.givenEmpty, ui.linksEmpty]) empty.hidden = true;
  resetShared();
}

/** The end of the chosen day, local time, for an `<input type="date">` value. */
function endOfDay(value: string): Date {
  return new Date(`${value}T23:59:59`);
}

/**
 * The Share form, inline in a file's or folder's row: who, how, until when. `path` is relative
 * to the user's folder (`photos/` for a folder, `photos/a.jpg` for a file).
 */
export function openShareForm(path: string, label: string, item: HTMLLIElement, actions: HTMLElement): void {
  item.querySelector('.share-form')?.remove();
  const suffix = Math.random().toString(36).slice(2, 8);
  const form = document.createElement('form');
  form.className = 'share-form';
  form.noValidate = true;
  form.setAttribute('aria-label', `Share ${label}`);

  const granteeLabel = document.createElement('label');
  granteeLabel.htmlFor = `share-grantee-${suffix}`;
  granteeLabel.textContent = `Share ${label} with (username)`;
  const grantee = document.createElement('input');
  grantee.id = granteeLabel.htmlFor;
  grantee.autocomplete = 'off';
  grantee.autocapitalize = 'none';
  grantee.spellcheck = false;

  const access = document.createElement('fieldset');
  const legend = document.createElement('legend');
  legend.textContent = 'They can';
  access.append(legend);
  for (const [value, text] of [
    ['read', 'View and download'],
    ['readwrite', 'View, download, upload and delete'],
  ] as const) {
    const option = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = `share-access-${suffix}`;
    radio.value = value;
    radio.checked = value === 'read';
    option.append(radio, text);
    access.append(option);
  }

  const endLabel = document.createElement('label');
  endLabel.htmlFor = `share-end-${suffix}`;
  endLabel.textContent = 'Ends after (optional)';
  const end = document.createElement('input');
  end.id = endLabel.htmlFor;
  end.type = 'date';
  end.min = new Date().toISOString().slice(0, 10);

  const submit = document.createElement('button');
  submit.type = 'submit';
  submit.textContent = 'Share';
  submit.setAttribute('aria-label', `Share ${label} now`);
  const close = (): void => {
    form.remove();
    actions.hidden = false;
    actions.querySelector<HTMLButtonElement>('button')?.focus();
  };
  const cancel = button('Cancel', `Cancel sharing ${label}`, 'secondary', close);
  const buttons = document.createElement('div');
  buttons.className = 'actions';
  buttons.append(submit, cancel);
  form.append(granteeLabel, grantee, access, endLabel, end, buttons);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const who = grantee.value.trim();
    if (who === '') {
      grantee.setAttribute('aria-invalid', 'true');
      grantee.focus();
      showErrorText('Enter the username of the person to share with.');
      return;
    }
    const chosen = form.querySelector<HTMLInputElement>(`input[name="share-access-${suffix}"]:checked`);
    const level = chosen?.value === 'readwrite' ? 'readwrite' : 'read';
    void busy(submit, async () => {
      const share = await shares.create({
        path,
        grantee: who,
        access: level,
        ...(end.value !== '' ? { expiresAt: endOfDay(end.value) } : {}),
      });
      close();
      await refreshSharing();
      showStatus(
        `Shared ${label} with ${share.grantee}: they ${accessWords(share)} it, ${endWords(share.expiresAt, 'until you stop sharing it')}.`,
      );
    });
  });
  actions.hidden = true;
  item.append(form);
  grantee.focus();
}

/** Copy link on a file: a new link, put on the clipboard where the browser allows, and listed. */
export function copyLink(path: string, label: string, control: HTMLButtonElement): void {
  act(control, async () => {
    const link = await links.create({ path });
    const copied = await copy(link.url);
    await refreshSharing();
    showStatus(
      copied
        ? `Copied a link to ${label}. Anyone with it can download the file until you revoke it.`
        : `Made a link to ${label}: copy it from Links to my files. Anyone with it can download the file until you revoke it.`,
    );
  });
}

/** Wires the card to the app's busy wrapper (button disabled, failures reported). */
export function wireSharing(options: { readonly busy: Busy }): void {
  busy = options.busy;
  ui.refresh.addEventListener('click', () =>
    act(ui.refresh, async () => {
      await refreshSharing();
      showStatus('Sharing updated.');
    }),
  );
  // A share found over while browsing it: the lists are read again, so it disappears.
  setSharedListener({
    busy: (control, action) => busy(control, action),
    ended: () => void refreshSharing().catch(() => undefined),
  });
}
