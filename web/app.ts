/**
 * The Personal File Store web app: log in to the TVM, then browse folders, upload (drag and
 * drop or a picker, any size, with progress and cancel), download and delete the files in your
 * own S3 folder, straight against S3 with the vended credentials. The API is only ever asked
 * for credentials, never for files.
 *
 * Modules: dom (elements), feedback (messages), session (client, credentials, storage),
 * folder-view (folders and files), uploads (the queue), messages (plain words), mfa (second
 * factors: the code step of a login, passkeys, the sign-in security card), account (sessions,
 * password, deleting the account, reset codes), file-actions (rename, move, delete a folder),
 * sharing and shared-folder (shares, links, a share received), identities and oidc (sign-in
 * with an outside provider, the first sign-in's name, linked sign-ins).
 *
 * Logout forgets everything of the person in the page (names, uploads, credentials, downloads,
 * the account card); only the device token stays, which names this browser, not the person.
 */
import { InvalidCredentialsError, InviteRequiredError, LoginRequiredError } from '@serverless-tvm/client';
import { resetAccount, resetResetForm, setAccountFactors, showAccount, wireAccount } from './account';
import { element, ui } from './dom';
import { clearMessages, showError, showErrorText, showStatus } from './feedback';
import { createFolder, goUp, refreshFolder, resetFolder, setFolderShownListener, setGuard } from './folder-view';
import { SESSION_ENDED } from './messages';
import { createMfaUi } from './mfa';
import { resetIdentities, resumeProviderSignIn, showIdentities, wireIdentities } from './identities';
import { finishProviderSignIn } from './oidc';
import { credentials, SESSION_KEY, tvm } from './session';
import { resetSharing, showSharing, wireSharing } from './sharing';
import { activeUploads, cancelAll, forgetUploads, showFolderUploads, wireUploads } from './uploads';
import {
  applyRegistrationMode,
  clearInvites,
  markInviteInvalid,
  registrationMode,
  typedInvite,
  unmarkInvites,
} from './registration';
import { wireUsage } from './usage';

// ---- views ----------------------------------------------------------------------------

/** The login screen, with nothing of the last person left in the page. */
function showSignedOut(): void {
  ui.account.hidden = true;
  ui.accountName.textContent = '';
  ui.expiry.textContent = '';
  delete ui.expiry.dataset['expiration'];
  ui.filesView.hidden = true;
  ui.authView.hidden = false;
  resetFolder();
  forgetUploads();
  resetAccount();
  resetIdentities();
  resetSharing();
  resetResetForm();
  ui.folderForm.reset();
  ui.folderForm.hidden = true;
  ui.username.value = '';
  ui.password.value = '';
  clearInvites();
  ui.username.focus();
}

function showSignedIn(username: string): void {
  ui.accountName.textContent = username;
  ui.account.hidden = false;
  ui.authView.hidden = true;
  ui.filesView.hidden = false;
  showAccount();
  showIdentities();
  showSharing();
  renderExpiry();
}

/**
 * True from a session's end until the next login attempt: a 401 that a request sent before the
 * end brings back later (the security card's, say) is the same ending, not a wrong password.
 */
let endedNoticeShown = false;

/** The TVM refused the session (revoked, disabled, expired): back to the login screen, saying so. */
function sessionEnded(): void {
  void cancelAll().finally(forgetUploads);
  showSignedOut();
  showErrorText(SESSION_ENDED);
  endedNoticeShown = true;
}

/**
 * Shows a failure; a 401 is judged first. With no session left it is a session that ended.
 * With one, fresh credentials tell whether the TVM still accepts it: if not, the session has
 * ended (the client says so, and sessionEnded runs); if so, a password or code was wrong.
 */
async function report(error: unknown): Promise<void> {
  if (error instanceof LoginRequiredError) return sessionEnded();
  if (!(error instanceof InvalidCredentialsError)) return showError(error);
  if (endedNoticeShown) return;
  const session = await tvm.getSession();
  if (!session) return showError(error);
  try {
    await credentials({ forceRefresh: true });
  } catch (refusal) {
    if (refusal instanceof LoginRequiredError) return sessionEnded();
  }
  showErrorText('That password or code is not right. Check it and try again.');
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

/** Offline when the browser says so or when the client found the TVM or S3 unreachable. */
function renderConnectivity(): void {
  ui.offlineBanner.hidden = navigator.onLine && tvm.connectivity.state === 'online';
}

/** Runs an action with its button disabled, and turns any failure into a message. */
async function busy(control: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  control.disabled = true;
  // A login, passkey sign-in or reset starts afresh: its 401 is its own.
  if (ui.authView.contains(control)) endedNoticeShown = false;
  try {
    await action();
    renderExpiry();
  } catch (error) {
    await report(error);
  } finally {
    control.disabled = false;
  }
}

setGuard((control, action) => {
  clearMessages();
  void busy(control, action);
});

// ---- wiring ---------------------------------------------------------------------------

const mfaUi = createMfaUi(tvm, {
  clearMessages,
  showStatus,
  showError: (error) => void report(error),
  busy,
  factorsChanged: setAccountFactors,
});

/** After any login: the files view, the top folder, a welcome. */
async function enterFolder(username: string, welcome: string): Promise<void> {
  ui.password.value = '';
  resetResetForm();
  showSignedIn(username);
  await refreshFolder();
  showStatus(welcome);
  element<HTMLHeadingElement>('files-title').focus();
}

tvm.onSessionChange((event) => {
  if (event.type === 'signedOut' && event.reason !== 'logout') sessionEnded();
});
// Another tab logged out, or logged someone else in: this tab's page holds the last person's
// names and credentials, so it stops their uploads and starts again from the stored session.
window.addEventListener('storage', (event) => {
  if ((event.key !== SESSION_KEY && event.key !== null) || event.oldValue === event.newValue) return;
  void cancelAll().finally(() => window.location.reload());
});
tvm.connectivity.onChange(renderConnectivity);
window.addEventListener('online', renderConnectivity);
window.addEventListener('offline', renderConnectivity);

ui.authForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const submitter = (event as SubmitEvent).submitter;
  const registering = submitter instanceof HTMLButtonElement && submitter.value === 'register';
  const control = submitter instanceof HTMLButtonElement ? submitter : ui.loginButton;
  clearMessages();
  endedNoticeShown = false;
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (username === '' || password === '') {
    const missing = username === '' ? ui.username : ui.password;
    missing.setAttribute('aria-invalid', 'true');
    missing.focus();
    showErrorText(username === '' ? 'Enter your username.' : 'Enter your password.');
    return;
  }
  unmarkInvites();
  const invite = typedInvite();
  if (registering && registrationMode() === 'invite' && invite === undefined) {
    markInviteInvalid(false);
    showErrorText('Enter the invite code the operator gave you.');
    return;
  }
  void busy(control, async () => {
    showStatus(registering ? 'Creating your account…' : 'Logging in…');
    let result;
    try {
      result = registering
        ? await tvm.register(username, password, invite === undefined ? {} : { invite })
        : await mfaUi.login(username, password);
    } catch (error) {
      if (error instanceof InviteRequiredError) markInviteInvalid(false);
      throw error;
    }
    // Cancelled at the second-factor step: the login form is back.
    if (!result) return;
    await enterFolder(
      result.username,
      registering ? `Welcome, ${result.username}! Your folder is ready.` : `Welcome back, ${result.username}.`,
    );
  });
});

const passkeyLoginButton = element<HTMLButtonElement>('passkey-login-button');
// A TVM without a passkey relying party (the page's tvm-passkeys meta tag says off) offers none.
if (document.querySelector<HTMLMetaElement>('meta[name="tvm-passkeys"]')?.content === 'off') {
  passkeyLoginButton.hidden = true;
  element<HTMLButtonElement>('passkey-add-button').hidden = true;
}
passkeyLoginButton.addEventListener('click', () => {
  clearMessages();
  endedNoticeShown = false;
  void busy(passkeyLoginButton, async () => {
    const result = await mfaUi.loginWithPasskey();
    await enterFolder(result.username, `Welcome back, ${result.username}.`);
  });
});

ui.refreshButton.addEventListener('click', () => {
  clearMessages();
  void busy(ui.refreshButton, async () => {
    await refreshFolder();
    showStatus('File list updated.');
  });
});

ui.upButton.addEventListener('click', () => {
  clearMessages();
  void busy(ui.upButton, goUp);
});

ui.newFolderButton.addEventListener('click', () => {
  const opening = ui.folderForm.hidden;
  ui.folderForm.hidden = !opening;
  ui.newFolderButton.setAttribute('aria-expanded', String(opening));
  if (opening) ui.folderName.focus();
});

function closeFolderForm(): void {
  ui.folderForm.hidden = true;
  ui.folderForm.reset();
  ui.newFolderButton.setAttribute('aria-expanded', 'false');
  ui.newFolderButton.focus();
}

ui.folderCancel.addEventListener('click', closeFolderForm);

ui.folderForm.addEventListener('submit', (event) => {
  event.preventDefault();
  clearMessages();
  const name = ui.folderName.value.trim();
  if (name === '') {
    ui.folderName.focus();
    showErrorText('Enter a name for the new folder.');
    return;
  }
  const submit = ui.folderForm.querySelector<HTMLButtonElement>('button[type="submit"]') ?? ui.newFolderButton;
  void busy(submit, async () => {
    await createFolder(name);
    closeFolderForm();
  });
});

ui.logoutButton.addEventListener('click', () => {
  clearMessages();
  const active = activeUploads();
  if (
    active > 0 &&
    !window.confirm(
      `Log out and cancel ${active === 1 ? 'the upload' : `${active} uploads`} in progress? What has not finished is not kept.`,
    )
  )
    return;
  void busy(ui.logoutButton, async () => {
    await cancelAll();
    try {
      await tvm.logout();
      showSignedOut();
      showStatus('You are logged out.');
    } catch {
      showSignedOut();
      showStatus(
        'You are logged out on this device. The server could not be reached, so the session will end on its own when it expires.',
      );
    }
  });
});

applyRegistrationMode();
wireUsage();
wireUploads();
wireSharing({ busy });
setFolderShownListener(showFolderUploads);
wireAccount({
  busy,
  enter: (result, welcome) => enterFolder(result.username, welcome),
  refreshFactors: () => mfaUi.refreshFactors(),
  deleted: (message) => {
    void cancelAll().finally(forgetUploads);
    showSignedOut();
    showStatus(message);
  },
});
const identityHooks = {
  busy,
  loginWithIdToken: (signIn: { provider: string; idToken: string; username?: string; invite?: string }) =>
    mfaUi.loginWithIdToken(signIn),
  enter: (result: { readonly username: string }, welcome: string) => enterFolder(result.username, welcome),
  report,
};
wireIdentities(identityHooks);
window.setInterval(renderExpiry, 15_000);

async function start(): Promise<void> {
  // First: a page back from a provider's sign-in takes its trip before anything resets the page.
  const trip = finishProviderSignIn();
  // Handled in resumeProviderSignIn; this only keeps a refusal from counting as unhandled meanwhile.
  trip.catch(() => undefined);
  renderConnectivity();
  const session = await tvm.getSession();
  if (!session) {
    showSignedOut();
    await resumeProviderSignIn(identityHooks, false, trip);
    return;
  }
  showSignedIn(session.username);
  await resumeProviderSignIn(identityHooks, true, trip);
  try {
    await refreshFolder();
    renderExpiry();
  } catch (error) {
    await report(error);
  }
}

void start().finally(() => {
  document.body.dataset['ready'] = 'true';
});
