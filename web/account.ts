/**
 * The account card and the reset form: where one is signed in (end one session, or all the
 * others), a new password, deleting one's own account, and redeeming an operator's reset code
 * on the login screen. Ending another session, changing the password and deleting the account
 * take a step-up with what the account has (docs/mfa.md): with two-step verification a code
 * from the authenticator app, a recovery code or a passkey (the password alone is refused);
 * without it, the current password. The forms follow the factors web/mfa.ts reads.
 */
import {
  InvalidCredentialsError,
  SecondFactorRequiredError,
  TvmMfa,
  type PasskeyStepUp,
  type SecondFactor,
  type SessionResult,
  type SessionSummary,
  type StepUp,
} from '@serverless-tvm/client';
import { button, element } from './dom';
import { clearMessages, showErrorText, showStatus } from './feedback';
import { UserMistake } from './messages';
import { factorFrom, factorNeededMessage, hasFactor, passkeyStepUp, type AccountFactors } from './mfa';
import { tvm } from './session';

const mfa = new TvmMfa(tvm);

/** What app.ts lends this module. */
export interface AccountHooks {
  busy(control: HTMLButtonElement, action: () => Promise<void>): Promise<void>;
  /** After a reset code logged the person in: the files view, as after a login. */
  enter(result: SessionResult, welcome: string): Promise<void>;
  /** The account is being deleted: the app forgets everything, as at logout. */
  deleted(message: string): void;
  /** Reads the account's factors again (web/mfa.ts re-renders its card and calls {@link setAccountFactors}). */
  refreshFactors(): Promise<AccountFactors>;
}

const ui = {
  view: element<HTMLElement>('account-view'),
  sessionList: element<HTMLUListElement>('session-list'),
  sessionsRefresh: element<HTMLButtonElement>('sessions-refresh'),
  endOthers: element<HTMLButtonElement>('sessions-end-others'),
  stepUpForm: element<HTMLFormElement>('step-up-form'),
  stepUpPurpose: element<HTMLParagraphElement>('step-up-purpose'),
  stepUpPasswordField: element<HTMLDivElement>('step-up-password-field'),
  stepUpPassword: element<HTMLInputElement>('step-up-password'),
  stepUpCodeField: element<HTMLDivElement>('step-up-code-field'),
  stepUpCodeLabel: element<HTMLLabelElement>('step-up-code-label'),
  stepUpCode: element<HTMLInputElement>('step-up-code'),
  stepUpHint: element<HTMLParagraphElement>('step-up-hint'),
  stepUpButton: element<HTMLButtonElement>('step-up-button'),
  stepUpPasskey: element<HTMLButtonElement>('step-up-passkey'),
  stepUpCancel: element<HTMLButtonElement>('step-up-cancel'),
  stepUpProviders: element<HTMLDivElement>('step-up-providers'),
  passwordForm: element<HTMLFormElement>('password-form'),
  currentPassword: element<HTMLInputElement>('current-password'),
  newPassword: element<HTMLInputElement>('new-password'),
  passwordCodeField: element<HTMLDivElement>('password-code-field'),
  passwordCodeLabel: element<HTMLLabelElement>('password-code-label'),
  passwordCode: element<HTMLInputElement>('password-code'),
  passwordButton: element<HTMLButtonElement>('password-button'),
  passwordPasskey: element<HTMLButtonElement>('password-passkey'),
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

/**
 * The signed-in account's factors, as web/mfa.ts last read them; undefined until read (then
 * the forms ask for the password, and a 401 second_factor_required switches them over).
 */
let factors: AccountFactors | undefined;

/** Whether a step-up needs a second factor. */
function factorMode(): boolean {
  return factors !== undefined && hasFactor(factors);
}

/** Whether the account has a factor one can type (a code from the app, or a recovery code left). */
function typedFactor(): boolean {
  return factors !== undefined && factorMode() && (factors.totp || factors.recoveryCodes);
}

/** What a typed factor is, for the labels: "from your authenticator app, or a recovery code". */
function typedFactorName(): string {
  return factors?.totp ? 'from your authenticator app, or a recovery code' : 'a recovery code';
}

/** Shows the fields of the proof the account takes: the password, or a code and (with passkeys) the passkey button. */
function renderProofFields(): void {
  const factor = factorMode();
  const passkey = factor && factors?.passkeys === true;
  ui.stepUpPasswordField.hidden = factor;
  ui.stepUpCodeField.hidden = !typedFactor();
  ui.stepUpCodeLabel.textContent = `Confirmation code: ${typedFactorName()}`;
  ui.stepUpPasskey.hidden = !passkey;
  ui.stepUpHint.textContent = factor
    ? 'Two-step verification is on, so your password alone is not enough: confirm with your second factor.'
    : 'Confirm with your password.';
  ui.passwordCodeField.hidden = !typedFactor();
  ui.passwordCodeLabel.textContent = `Two-step code: ${typedFactorName()}`;
  ui.passwordPasskey.hidden = !passkey;
}

/** web/mfa.ts read (or set up) the account's factors; undefined at sign-out. */
export function setAccountFactors(next: AccountFactors | undefined): void {
  factors = next;
  renderProofFields();
}

/** What to type, or press, when a factor field was left empty. */
function missingFactorMessage(): string {
  if (!typedFactor()) return 'Confirm with your passkey.';
  const typed = factors?.totp ? 'a code from your authenticator app or a recovery code' : 'a recovery code';
  return factors?.passkeys ? `Enter ${typed}, or confirm with your passkey.` : `Enter ${typed}.`;
}

/** The proof the step-up form holds: a code on an account with a factor, else the password. */
function stepUpProof(): StepUp {
  if (factorMode()) {
    const code = ui.stepUpCode.value.trim();
    if (code === '') throw new UserMistake(missingFactorMessage());
    return factorFrom(code);
  }
  if (ui.stepUpPassword.value === '') throw new UserMistake('Enter your current password.');
  return { currentPassword: ui.stepUpPassword.value };
}

/**
 * Runs a step-up action. A 401 second_factor_required (the account has a factor this page had
 * not read yet, set up in another tab, say) reads the factors again, switches the forms to
 * them and says which proofs work, instead of a message about a wrong password.
 */
async function withProof(hooks: AccountHooks, proof: StepUp | undefined, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof SecondFactorRequiredError)) throw error;
    setAccountFactors(await hooks.refreshFactors());
    throw new UserMistake(factorNeededMessage(factors ?? { totp: true, passkeys: false, recoveryCodes: true }));
  }
  // A recovery code is spent: the security card counts what is left.
  if (proof && 'recoveryCode' in proof) await hooks.refreshFactors().catch(() => undefined);
}

/** What the step-up form confirms when submitted; `viaPasskey` when the proof is a passkey's answer. */
let pendingStepUp:
  | { readonly run: (proof: StepUp, viaPasskey: boolean) => Promise<void>; readonly from: HTMLButtonElement }
  | undefined;

/**
 * Opens the step-up form for one change. `viaProvider` (the linked identities' changes) adds a
 * "Confirm with <provider>" button per linked provider: an account without a password proves
 * itself by signing in there again (web/identities.ts leaves the page for it).
 */
export function askStepUp(
  purpose: string,
  confirmText: string,
  from: HTMLButtonElement,
  run: NonNullable<typeof pendingStepUp>['run'],
  viaProvider?: { readonly providers: readonly string[]; readonly confirm: (provider: string) => void },
): void {
  clearMessages();
  pendingStepUp = { run, from };
  ui.stepUpPurpose.textContent = purpose;
  ui.stepUpButton.textContent = confirmText;
  ui.stepUpForm.reset();
  renderProofFields();
  const providers = viaProvider?.providers ?? [];
  ui.stepUpProviders.replaceChildren(
    ...providers.map((provider) =>
      button(`Confirm by signing in with ${provider}`, `Confirm by signing in with ${provider}`, 'secondary', () =>
        viaProvider?.confirm(provider),
      ),
    ),
  );
  ui.stepUpProviders.hidden = providers.length === 0;
  if (providers.length > 0 && !factorMode())
    ui.stepUpHint.textContent =
      'Confirm with your password or, for an account without one, by signing in again with a provider linked to it.';
  ui.stepUpForm.hidden = false;
  focusProof();
}

/** Puts the cursor where the proof goes (the password, the code, or the passkey button). */
function focusProof(): void {
  if (!factorMode()) ui.stepUpPassword.focus();
  else if (typedFactor()) ui.stepUpCode.focus();
  else ui.stepUpPasskey.focus();
}

export function closeStepUp(): void {
  const from = pendingStepUp?.from;
  pendingStepUp = undefined;
  ui.stepUpForm.reset();
  ui.stepUpForm.hidden = true;
  ui.stepUpProviders.replaceChildren();
  ui.stepUpProviders.hidden = true;
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
    const end = button(
      'End session',
      `End the session of ${device}, signed in ${when(session.createdAt)}`,
      'secondary small',
      (control) =>
        askStepUp(
          `End the session of ${device}? That device must log in again.`,
          'End session',
          control,
          async (proof) => {
            await tvm.revokeSession(session.id, proof);
            closeStepUp();
            await renderSessions(hooks);
            showStatus(`Ended the session of ${device}.`);
          },
        ),
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
    askStepUp(
      'End every session except this one? Every other device must log in again.',
      'End other sessions',
      ui.endOthers,
      async (first, viaPasskey) => {
        const others = (await tvm.listSessions()).filter((session) => !session.current);
        let ended = 0;
        // The password proves every revocation; a code or recovery code works once (the server
        // refuses it again, and a refusal counts against this session's attempts), so it ends
        // one session; a passkey is asked again for each.
        let proof: StepUp | undefined = first;
        try {
          for (const session of others) {
            if (!proof) break;
            await tvm.revokeSession(session.id, proof);
            ended++;
            if ('currentPassword' in proof || ended === others.length) continue;
            proof = viaPasskey ? await passkeyStepUp(mfa) : undefined;
          }
        } catch (error) {
          if (ended === 0) throw error;
          await renderSessions(hooks);
          throw error;
        }
        if (ended < others.length) {
          await renderSessions(hooks);
          ui.stepUpCode.value = '';
          focusProof();
          showStatus(
            `Ended ${ended} of ${others.length} other sessions. Each code works only once: confirm again with the next code from your authenticator app, a recovery code or your passkey to end the next one.`,
          );
          return;
        }
        closeStepUp();
        await renderSessions(hooks);
        showStatus(others.length === 1 ? 'Ended 1 other session.' : `Ended ${others.length} other sessions.`);
      },
    ),
  );

  ui.stepUpForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const pending = pendingStepUp;
    if (!pending) return;
    void hooks.busy(ui.stepUpButton, async () => {
      const proof = stepUpProof();
      await withProof(hooks, proof, () => pending.run(proof, false));
    });
  });
  ui.stepUpPasskey.addEventListener('click', () => {
    clearMessages();
    const pending = pendingStepUp;
    if (!pending) return;
    void hooks.busy(ui.stepUpPasskey, async () => {
      const proof = await passkeyStepUp(mfa);
      await withProof(hooks, proof, () => pending.run(proof, true));
    });
  });
  ui.stepUpCancel.addEventListener('click', () => {
    clearMessages();
    closeStepUp();
  });

  /** The old and new passwords typed, or undefined after pointing at the empty one. */
  function typedPasswords(): { current: string; next: string } | undefined {
    const current = ui.currentPassword.value;
    const next = ui.newPassword.value;
    if (current !== '' && next !== '') return { current, next };
    (current === '' ? ui.currentPassword : ui.newPassword).focus();
    showErrorText(current === '' ? 'Enter your current password.' : 'Enter a new password.');
    return undefined;
  }

  /** Changes the password: the old one always, and on an account with a factor that factor too. */
  async function changePassword(
    current: string,
    next: string,
    factor: SecondFactor | PasskeyStepUp | undefined,
  ): Promise<void> {
    await withProof(hooks, factor, () => tvm.changePassword(current, next, factor));
    ui.passwordForm.reset();
    if (!ui.sessionList.hidden && ui.sessionList.childElementCount > 0) await renderSessions(hooks);
    showStatus('Password changed. Every other session has ended; this one stays signed in.');
  }

  ui.passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const typed = typedPasswords();
    if (!typed) return;
    let factor: SecondFactor | undefined;
    if (factorMode()) {
      const code = ui.passwordCode.value.trim();
      if (code === '') {
        (typedFactor() ? ui.passwordCode : ui.passwordPasskey).focus();
        showErrorText(missingFactorMessage());
        return;
      }
      factor = factorFrom(code);
    }
    void hooks.busy(ui.passwordButton, () => changePassword(typed.current, typed.next, factor));
  });
  ui.passwordPasskey.addEventListener('click', () => {
    clearMessages();
    const typed = typedPasswords();
    if (!typed) return;
    void hooks.busy(ui.passwordPasskey, async () =>
      changePassword(typed.current, typed.next, await passkeyStepUp(mfa)),
    );
  });

  ui.deleteButton.addEventListener('click', () =>
    askStepUp(
      'Delete your account, your files and every session? This cannot be undone.',
      'Delete my account',
      ui.deleteButton,
      async (proof) => {
        if (!window.confirm('Delete your account and all your files for good?')) return;
        const deletion = await tvm.deleteAccount(proof);
        closeStepUp();
        hooks.deleted(
          `Your account is being deleted. It is gone for good by ${new Date(deletion.completesAfter).toLocaleString()}.`,
        );
      },
    ),
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
      const result = await tvm
        .resetPassword(username, code, password, factor === '' ? undefined : factorFrom(factor))
        .catch((error: unknown) => {
          throw error instanceof InvalidCredentialsError
            ? new UserMistake(
                'That reset code did not work: check the username and the code, which works once and for an hour. Ask your administrator for a new one if it has expired.',
              )
            : error;
        });
      resetResetForm();
      await hooks.enter(
        result,
        `Welcome back, ${result.username}. Your new password is set; your other sessions have ended.`,
      );
    });
  });
}
