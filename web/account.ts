/**
 * The account card and the reset form: where one is signed in (end one session, or all the
 * others), a new password, deleting one's own account, and redeeming an operator's reset code
 * on the login screen. Ending another session and deleting the account take a step-up: the
 * current password, or a code (which an account with two-step verification needs).
 */
import { InvalidCredentialsError, type SecondFactor, type SessionResult, type SessionSummary } from '@serverless-tvm/client';
import { button, element } from './dom';
import { clearMessages, showErrorText, showStatus } from './feedback';
import { UserMistake } from './messages';
import { tvm } from './session';

/** What app.ts lends this module. */
export interface AccountHooks {
  busy(control: HTMLButtonElement, action: () => Promise<void>): Promise<void>;
  /** After a reset code logged the person in: the files view, as after a login. */
  enter(result: SessionResult, welcome: string): Promise<void>;
  /** The account is being deleted: the app forgets everything, as at logout. */
  deleted(message: string): void;
}

const ui = {
  view: element<HTMLElement>('account-view'),
  sessionList: element<HTMLUListElement>('session-list'),
  sessionsRefresh: element<HTMLButtonElement>('sessions-refresh'),
  endOthers: element<HTMLButtonElement>('sessions-end-others'),
  stepUpForm: element<HTMLFormElement>('step-up-form'),
  stepUpPurpose: element<HTMLParagraphElement>('step-up-purpose'),
  stepUpPassword: element<HTMLInputElement>('step-up-password'),
  stepUpCode: element<HTMLInputElement>('step-up-code'),
  stepUpButton: element<HTMLButtonElement>('step-up-button'),
  stepUpCancel: element<HTMLButtonElement>('step-up-cancel'),
  passwordForm: element<HTMLFormElement>('password-form'),
  currentPassword: element<HTMLInputElement>('current-password'),
  newPassword: element<HTMLInputElement>('new-password'),
  passwordButton: element<HTMLButtonElement>('password-button'),
  deleteButton: element<HTMLButtonElement>('delete-account-button'),
  resetToggle: element<HTMLButtonElement>('reset-toggle'),
  resetForm: element<HTMLFormElement>('reset-form'),
  username: element<HTMLInputElement>('username'),
  resetCode: element<HTMLInputElement>('reset-code'),
  resetNewPassword: element<HTMLInputElement>('reset-new-password'),
  resetFactor: element<HTMLInputElement>('reset-factor'),
  resetButton: element<HTMLButtonElement>('reset-button'),
  resetCancel: element<HTMLButtonElement>('reset-cancel'),
};

/** A recovery code has letters or dashes; an app's code is six digits. */
function factorFrom(typed: string): SecondFactor {
  const value = typed.trim();
  return /^[\d\s]+$/.test(value) ? { code: value.replace(/\s/g, '') } : { recoveryCode: value };
}

/** The proof the step-up form holds: a code if one was typed, else the password. */
function stepUpProof(): { readonly currentPassword: string } | SecondFactor {
  const code = ui.stepUpCode.value.trim();
  if (code !== '') return factorFrom(code);
  if (ui.stepUpPassword.value === '') throw new UserMistake('Enter your current password, or a code from your authenticator app.');
  return { currentPassword: ui.stepUpPassword.value };
}

/** What the step-up form confirms when submitted. */
let pendingStepUp: { readonly run: (proof: { readonly currentPassword: string } | SecondFactor) => Promise<void>; readonly from: HTMLButtonElement } | undefined;

function askStepUp(purpose: string, confirmText: string, from: HTMLButtonElement, run: NonNullable<typeof pendingStepUp>['run']): void {
  clearMessages();
  pendingStepUp = { run, from };
  ui.stepUpPurpose.textContent = purpose;
  ui.stepUpButton.textContent = confirmText;
  ui.stepUpForm.reset();
  ui.stepUpForm.hidden = false;
  ui.stepUpPassword.focus();
}

function closeStepUp(): void {
  const from = pendingStepUp?.from;
  pendingStepUp = undefined;
  ui.stepUpForm.reset();
  ui.stepUpForm.hidden = true;
  if (from?.isConnected) from.focus();
}

function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : 'not yet';
}

function sessionItem(session: SessionSummary, hooks: AccountHooks): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'session';
  item.dataset['current'] = String(session.current);
  const device = session.device ?? 'Unnamed device';
  const text = document.createElement('span');
  text.textContent = `${device}${session.current ? ' (this browser)' : ''} · signed in ${when(session.createdAt)} · last used ${when(session.lastUsedAt)}`;
  item.append(text);
  if (!session.current) {
    const end = button('End session', `End the session of ${device}, signed in ${when(session.createdAt)}`, 'secondary small', (control) =>
      askStepUp(`End the session of ${device}? That device must log in again.`, 'End session', control, async (proof) => {
        await tvm.revokeSession(session.id, proof);
        closeStepUp();
        await renderSessions(hooks);
        showStatus(`Ended the session of ${device}.`);
      }),
    );
    item.append(end);
  }
  return item;
}

async function renderSessions(hooks: AccountHooks): Promise<void> {
  const sessions = await tvm.listSessions();
  ui.sessionList.replaceChildren(...sessions.map((session) => sessionItem(session, hooks)));
  ui.endOthers.hidden = !sessions.some((session) => !session.current);
  ui.sessionsRefresh.textContent = 'Refresh the list';
}

/** Shows the card (after a login); nothing is fetched until the person asks. */
export function showAccount(): void {
  resetAccount();
  ui.view.hidden = false;
}

/** Hides the card and forgets what it showed (logout, session ended). */
export function resetAccount(): void {
  ui.view.hidden = true;
  ui.sessionList.replaceChildren();
  ui.endOthers.hidden = true;
  ui.sessionsRefresh.textContent = 'Show my sessions';
  pendingStepUp = undefined;
  ui.stepUpForm.reset();
  ui.stepUpForm.hidden = true;
  ui.passwordForm.reset();
}

/** Closes and empties the reset form (at login, or when cancelled). */
export function resetResetForm(): void {
  ui.resetForm.reset();
  ui.resetForm.hidden = true;
  ui.resetToggle.setAttribute('aria-expanded', 'false');
}

/** Wires the card and the reset form. */
export function wireAccount(hooks: AccountHooks): void {
  ui.sessionsRefresh.addEventListener('click', () => {
    clearMessages();
    void hooks.busy(ui.sessionsRefresh, async () => {
      await renderSessions(hooks);
      showStatus('Your sessions are listed.');
    });
  });

  ui.endOthers.addEventListener('click', () =>
    askStepUp('End every session except this one? Every other device must log in again.', 'End other sessions', ui.endOthers, async (proof) => {
      const others = (await tvm.listSessions()).filter((session) => !session.current);
      let ended = 0;
      try {
        for (const session of others) {
          await tvm.revokeSession(session.id, proof);
          ended++;
        }
      } catch (error) {
        if (ended === 0) throw error;
        // A code works once, so the next session's call is refused: say how far it got.
        await renderSessions(hooks);
        throw new UserMistake(`Ended ${ended} of ${others.length} other sessions. A code works only once: confirm again with the next code, or your password, to end the rest.`);
      }
      closeStepUp();
      await renderSessions(hooks);
      showStatus(others.length === 1 ? 'Ended 1 other session.' : `Ended ${others.length} other sessions.`);
    }),
  );

  ui.stepUpForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const pending = pendingStepUp;
    if (!pending) return;
    void hooks.busy(ui.stepUpButton, async () => pending.run(stepUpProof()));
  });
  ui.stepUpCancel.addEventListener('click', () => {
    clearMessages();
    closeStepUp();
  });

  ui.passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const current = ui.currentPassword.value;
    const next = ui.newPassword.value;
    if (current === '' || next === '') {
      (current === '' ? ui.currentPassword : ui.newPassword).focus();
      showErrorText(current === '' ? 'Enter your current password.' : 'Enter a new password.');
      return;
    }
    void hooks.busy(ui.passwordButton, async () => {
      await tvm.changePassword(current, next);
      ui.passwordForm.reset();
      if (!ui.sessionList.hidden && ui.sessionList.childElementCount > 0) await renderSessions(hooks);
      showStatus('Password changed. Every other session has ended; this one stays signed in.');
    });
  });

  ui.deleteButton.addEventListener('click', () =>
    askStepUp('Delete your account, your files and every session? This cannot be undone.', 'Delete my account', ui.deleteButton, async (proof) => {
      if (!window.confirm('Delete your account and all your files for good?')) return;
      const deletion = await tvm.deleteAccount(proof);
      closeStepUp();
      hooks.deleted(`Your account is being deleted. It is gone for good by ${new Date(deletion.completesAfter).toLocaleString()}.`);
    }),
  );

  ui.resetToggle.addEventListener('click', () => {
    const opening = ui.resetForm.hidden;
    ui.resetForm.hidden = !opening;
    ui.resetToggle.setAttribute('aria-expanded', String(opening));
    if (opening) (ui.username.value.trim() === '' ? ui.username : ui.resetCode).focus();
  });
  ui.resetCancel.addEventListener('click', () => {
    clearMessages();
    resetResetForm();
    ui.resetToggle.focus();
  });
  ui.resetForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const username = ui.username.value.trim();
    const code = ui.resetCode.value.trim();
    const password = ui.resetNewPassword.value;
    const missing = [
      [ui.username, username, 'Enter your username above.'],
      [ui.resetCode, code, 'Enter the reset code you were given.'],
      [ui.resetNewPassword, password, 'Enter a new password.'],
    ] as const;
    const empty = missing.find(([, value]) => value === '');
    if (empty) {
      empty[0].focus();
      showErrorText(empty[2]);
      return;
    }
    const factor = ui.resetFactor.value.trim();
    void hooks.busy(ui.resetButton, async () => {
      showStatus('Setting your new password…');
      const result = await tvm.resetPassword(username, code, password, factor === '' ? undefined : factorFrom(factor)).catch((error: unknown) => {
        throw error instanceof InvalidCredentialsError
          ? new UserMistake('That reset code did not work: check the username and the code, which works once and for an hour. Ask your administrator for a new one if it has expired.')
          : error;
      });
      resetResetForm();
      await hooks.enter(result, `Welcome back, ${result.username}. Your new password is set; your other sessions have ended.`);
    });
  });
}
