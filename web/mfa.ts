/**
 * The web app's second-factor screens: the code step of a login, and the "Sign-in security"
 * card (set up an authenticator app with a QR code, show the recovery codes once, turn it
 * off). app.ts hands it its message helpers and calls {@link MfaUi.login} instead of
 * `tvm.login`; everything else here follows the client's session events.
 */
import {
  InvalidCredentialsError,
  SecondFactorRequiredError,
  TvmMfa,
  type IdTokenLogin,
  type MfaChallenge,
  type MfaStatus,
  type PasskeyStepUp,
  type SecondFactor,
  type SessionResult,
  type StepUp,
  type TvmClient,
} from '@serverless-tvm/client';
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import QRCode from 'qrcode';
import { element } from './dom';
import { UserMistake } from './messages';

/** What the app lends this module: its message banner and busy-button helpers. */
export interface MfaUiHooks {
  clearMessages(): void;
  showStatus(message: string): void;
  showError(error: unknown): void;
  busy(button: HTMLButtonElement, action: () => Promise<void>): Promise<void>;
  /** The account's factors changed (read from the server, set up, or signed out: undefined). */
  factorsChanged?(factors: AccountFactors | undefined): void;
}

/** What the signed-in account can prove a step-up with (the password alone is refused when it has a factor). */
export interface AccountFactors {
  readonly totp: boolean;
  readonly passkeys: boolean;
  readonly recoveryCodes: boolean;
}

/** Whether a step-up needs a second factor: the account has one (the server refuses the password alone then). */
export function hasFactor(factors: AccountFactors): boolean {
  return factors.totp || factors.passkeys;
}

/** What to say when the server refused the password alone (401 second_factor_required): which proofs it takes. */
export function factorNeededMessage(factors: AccountFactors): string {
  const typed = factors.totp ? 'a code from your authenticator app or a recovery code' : 'a recovery code';
  const ways = factors.passkeys ? `${typed}, or use your passkey` : typed;
  return `Two-step verification is on for this account, so your password alone is not enough here. Confirm with ${ways}.`;
}

/** A passkey as step-up: a fresh challenge, answered by the browser (it asks which passkey). */
export async function passkeyStepUp(mfa: TvmMfa): Promise<PasskeyStepUp> {
  const { challenge, passkeyOptions } = await mfa.passkeyStepUpOptions();
  const answer = await startAuthentication({
    optionsJSON: passkeyOptions as Parameters<typeof startAuthentication>[0]['optionsJSON'],
  });
  return { passkey: answer, challenge };
}

/** The second-factor parts of the page. */
export interface MfaUi {
  /** Logs in; asks for the second factor when the account has one. Undefined if the person cancelled. */
  login(username: string, password: string): Promise<SessionResult | undefined>;
  /** `tvm.loginWithIdToken`, with the code step when the account has a second factor (undefined if cancelled there). */
  loginWithIdToken(signIn: IdTokenLogin): Promise<SessionResult | undefined>;
  /** Signs in with a passkey alone (the browser asks which one). */
  loginWithPasskey(): Promise<SessionResult>;
  /** Reads the account's factors again (after a step-up spent a recovery code, or the server asked for a factor). */
  refreshFactors(): Promise<AccountFactors>;
}

/** A recovery code has letters or dashes; an app's code is six digits. */
export function factorFrom(typed: string): SecondFactor {
  const value = typed.trim();
  return /^[\d\s]+$/.test(value) ? { code: value.replace(/\s/g, '') } : { recoveryCode: value };
}

/** Wires the second-factor screens to `tvm` and returns the login step. */
export function createMfaUi(tvm: TvmClient, hooks: MfaUiHooks): MfaUi {
  const mfa = new TvmMfa(tvm);
  const ui = {
    authView: element<HTMLElement>('auth-view'),
    mfaView: element<HTMLElement>('mfa-view'),
    mfaForm: element<HTMLFormElement>('mfa-form'),
    mfaHint: element<HTMLParagraphElement>('mfa-hint'),
    mfaCodeLabel: element<HTMLLabelElement>('mfa-code-label'),
    mfaCode: element<HTMLInputElement>('mfa-code'),
    mfaVerify: element<HTMLButtonElement>('mfa-verify-button'),
    mfaRecoveryToggle: element<HTMLButtonElement>('mfa-recovery-toggle'),
    mfaPasskey: element<HTMLButtonElement>('mfa-passkey-button'),
    passkeyAdd: element<HTMLButtonElement>('passkey-add-button'),
    passkeyList: element<HTMLUListElement>('passkey-list'),
    mfaCancel: element<HTMLButtonElement>('mfa-cancel-button'),
    securityView: element<HTMLElement>('security-view'),
    securityState: element<HTMLParagraphElement>('security-state'),
    setupButton: element<HTMLButtonElement>('totp-setup-button'),
    passwordForm: element<HTMLFormElement>('totp-password-form'),
    currentPassword: element<HTMLInputElement>('totp-current-password'),
    passwordButton: element<HTMLButtonElement>('totp-password-button'),
    confirmForm: element<HTMLFormElement>('totp-confirm-form'),
    qr: element<HTMLImageElement>('totp-qr'),
    secret: element<HTMLElement>('totp-secret'),
    uri: element<HTMLElement>('totp-uri'),
    confirmCode: element<HTMLInputElement>('totp-confirm-code'),
    confirmButton: element<HTMLButtonElement>('totp-confirm-button'),
    codesView: element<HTMLDivElement>('recovery-codes-view'),
    codesList: element<HTMLOListElement>('recovery-codes'),
    codesDone: element<HTMLButtonElement>('recovery-codes-done'),
    removeForm: element<HTMLFormElement>('totp-remove-form'),
    removeCode: element<HTMLInputElement>('totp-remove-code'),
    removeButton: element<HTMLButtonElement>('totp-remove-button'),
  };
  const stepUpLabel = document.querySelector<HTMLLabelElement>('label[for="totp-current-password"]');
  // Built here (not in index.html): the step-up form's passkey choice, shown when the account has passkeys.
  const stepUpPasskey = Object.assign(document.createElement('button'), {
    type: 'button',
    className: 'secondary',
    textContent: 'Use a passkey instead',
    hidden: true,
  });
  ui.passwordButton.after(stepUpPasskey);
  /** What the account has, from the last status: a step-up asks for these (the password alone is refused with a factor). */
  let factorsOn: AccountFactors = { totp: false, passkeys: false, recoveryCodes: false };
  function setFactors(factors: AccountFactors): void {
    factorsOn = factors;
    hooks.factorsChanged?.(factors);
  }

  // ---- the login step ------------------------------------------------------------------

  let pending: { challenge: MfaChallenge; resolve: (result: SessionResult | undefined) => void } | undefined;
  let recoveryMode = false;

  function setRecoveryMode(on: boolean): void {
    recoveryMode = on;
    ui.mfaCodeLabel.textContent = on ? 'Recovery code' : 'Authentication code';
    ui.mfaHint.textContent = on
      ? 'Enter one of the recovery codes you saved. Each works once.'
      : 'Enter the 6-digit code from your authenticator app.';
    ui.mfaRecoveryToggle.textContent = on ? 'Use the authenticator app' : 'Use a recovery code';
    ui.mfaCode.inputMode = on ? 'text' : 'numeric';
    ui.mfaCode.value = '';
  }

  function closeCodeStep(result: SessionResult | undefined): void {
    ui.mfaView.hidden = true;
    ui.mfaCode.value = '';
    const resolve = pending?.resolve;
    pending = undefined;
    resolve?.(result);
  }

  ui.mfaForm.addEventListener('submit', (event) => {
    event.preventDefault();
    hooks.clearMessages();
    const current = pending;
    const typed = ui.mfaCode.value.trim();
    if (!current || typed === '') return;
    void hooks.busy(ui.mfaVerify, async () => {
      try {
        const factor: SecondFactor = recoveryMode ? { recoveryCode: typed } : factorFrom(typed);
        closeCodeStep(await mfa.completeLogin(current.challenge, factor));
      } catch (error) {
        ui.mfaCode.select();
        if (error instanceof InvalidCredentialsError) {
          throw new UserMistake(
            'That code did not work. Wait for the next code and try again, or cancel and log in again.',
          );
        }
        throw error;
      }
    });
  });
  ui.mfaPasskey.addEventListener('click', () => {
    hooks.clearMessages();
    const current = pending;
    const options = current?.challenge.passkeyOptions;
    if (!current || !options) return;
    void hooks.busy(ui.mfaPasskey, async () => {
      const answer = await startAuthentication({
        optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'],
      });
      closeCodeStep(await mfa.completeLogin(current.challenge, { passkey: answer }));
    });
  });
  ui.mfaRecoveryToggle.addEventListener('click', () => {
    setRecoveryMode(!recoveryMode);
    ui.mfaCode.focus();
  });
  ui.mfaCancel.addEventListener('click', () => {
    hooks.clearMessages();
    closeCodeStep(undefined);
    ui.authView.hidden = false;
  });

  async function login(username: string, password: string): Promise<SessionResult | undefined> {
    return withCodeStep(() => tvm.login(username, password), 'Password accepted. One more step.');
  }

  /** A login whose answer may be a second-factor challenge: the code step, then its session (undefined if cancelled). */
  async function withCodeStep(
    attempt: () => Promise<SessionResult>,
    accepted: string,
  ): Promise<SessionResult | undefined> {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof SecondFactorRequiredError) || !error.challenge) throw error;
      const challenge = error.challenge;
      ui.authView.hidden = true;
      setRecoveryMode(!challenge.methods.includes('totp'));
      ui.mfaRecoveryToggle.hidden = !(
        challenge.methods.includes('totp') && challenge.methods.includes('recovery_code')
      );
      ui.mfaPasskey.hidden = !challenge.passkeyOptions;
      ui.mfaView.hidden = false;
      hooks.showStatus(accepted);
      ui.mfaCode.focus();
      return new Promise((resolve) => {
        pending = { challenge, resolve };
      });
    }
  }

  // ---- the sign-in security card -------------------------------------------------------

  function resetCard(): void {
    for (const form of [ui.passwordForm, ui.confirmForm, ui.removeForm]) form.reset();
    ui.passwordForm.hidden = true;
    ui.confirmForm.hidden = true;
    ui.codesView.hidden = true;
    ui.codesList.replaceChildren();
    ui.qr.removeAttribute('src');
    ui.secret.textContent = '';
    ui.uri.textContent = '';
  }

  async function renderStatus(): Promise<AccountFactors> {
    const status = await mfa.status();
    const app = status.totp.enrolled;
    const on = app || status.passkeys.length > 0;
    const factors = [
      ...(app ? ['authenticator app'] : []),
      ...(status.passkeys.length > 0 ? [`${status.passkeys.length} passkey(s)`] : []),
    ];
    ui.securityState.textContent = on
      ? `Two-step verification is on: ${factors.join(' and ')}. ${status.recoveryCodesLeft} recovery codes left.`
      : 'Two-step verification is off. Add an authenticator app or a passkey so that a stolen password is not enough.';
    ui.securityView.dataset['mfa'] = on ? 'on' : 'off';
    setFactors({ totp: app, passkeys: status.passkeys.length > 0, recoveryCodes: status.recoveryCodesLeft > 0 });
    ui.setupButton.hidden = app;
    ui.removeForm.hidden = !app;
    renderPasskeys(status.passkeys);
    return factorsOn;
  }

  function showCard(): void {
    ui.securityView.hidden = false;
    resetCard();
    renderStatus().catch(hooks.showError);
  }

  function hideCard(): void {
    ui.securityView.hidden = true;
    resetCard();
    closeCodeStep(undefined);
    // The next person's factors are unknown until their status is read.
    factorsOn = { totp: false, passkeys: false, recoveryCodes: false };
    hooks.factorsChanged?.(undefined);
  }

  /** What the current-password form confirms: setting up the app, adding a passkey, or removing one. */
  let stepUpFor:
    | { readonly kind: 'totp' }
    | { readonly kind: 'passkey' }
    | { readonly kind: 'remove-passkey'; readonly id: string; readonly name: string } = { kind: 'totp' };

  const needsFactor = () => hasFactor(factorsOn);

  function askPassword(purpose: typeof stepUpFor, buttonText: string): void {
    hooks.clearMessages();
    stepUpFor = purpose;
    ui.passwordButton.textContent = buttonText;
    const factor = needsFactor();
    // With a second factor the same field takes a code or a recovery code, and a passkey is offered beside it.
    ui.currentPassword.type = factor ? 'text' : 'password';
    ui.currentPassword.autocomplete = factor ? 'one-time-code' : 'current-password';
    ui.currentPassword.required = !factor || factorsOn.totp || factorsOn.recoveryCodes;
    if (stepUpLabel) {
      stepUpLabel.textContent = !factor
        ? 'Current password'
        : factorsOn.totp
          ? 'Code from your authenticator app, or a recovery code'
          : 'A recovery code';
    }
    ui.currentPassword.hidden = factor && !factorsOn.totp && !factorsOn.recoveryCodes;
    stepUpPasskey.hidden = !factorsOn.passkeys;
    ui.passwordForm.hidden = false;
    ui.currentPassword.focus();
  }

  /** The proof the step-up form holds: the password, or a code or recovery code on an account with a factor. */
  function typedStepUp(): StepUp {
    return needsFactor() ? factorFrom(ui.currentPassword.value) : { currentPassword: ui.currentPassword.value };
  }

  ui.setupButton.addEventListener('click', () => {
    ui.setupButton.hidden = true;
    askPassword({ kind: 'totp' }, 'Continue');
  });
  ui.passkeyAdd.addEventListener('click', () => askPassword({ kind: 'passkey' }, 'Create passkey'));

  function renderPasskeys(passkeys: MfaStatus['passkeys']): void {
    ui.passkeyList.replaceChildren(
      ...passkeys.map((passkey) => {
        const item = document.createElement('li');
        const remove = Object.assign(document.createElement('button'), {
          type: 'button',
          className: 'secondary',
          textContent: `Remove ${passkey.name}`,
        });
        remove.addEventListener('click', () =>
          askPassword({ kind: 'remove-passkey', id: passkey.id, name: passkey.name }, 'Confirm removal'),
        );
        item.append(`Passkey "${passkey.name}", added ${new Date(passkey.createdAt).toLocaleDateString()} `, remove);
        return item;
      }),
    );
  }

  async function addPasskey(proof: StepUp): Promise<void> {
    const options = await mfa.passkeyRegistrationOptions(proof);
    const created = await startRegistration({
      optionsJSON: options as Parameters<typeof startRegistration>[0]['optionsJSON'],
    });
    const added = await mfa.addPasskey(created, `${navigator.platform || 'This device'} passkey`);
    setFactors({
      ...factorsOn,
      passkeys: true,
      recoveryCodes: added.recoveryCodes.length > 0 || factorsOn.recoveryCodes,
    });
    resetCard();
    if (added.recoveryCodes.length > 0) showRecoveryCodes(added.recoveryCodes);
    else await renderStatus();
    hooks.showStatus('Passkey added. You can use it to confirm your sign-in.');
  }

  /** Does what the step-up form confirms (set up the app, add or remove a passkey) with `proof`. */
  async function confirmWith(purpose: typeof stepUpFor, proof: StepUp): Promise<void> {
    if (purpose.kind === 'passkey') return addPasskey(proof);
    if (purpose.kind === 'remove-passkey') {
      await mfa.removePasskey(purpose.id, proof);
      resetCard();
      await renderStatus();
      hooks.showStatus(`Removed ${purpose.name}.`);
      return;
    }
    const enrolment = await mfa.startTotp(proof);
    ui.passwordForm.reset();
    ui.passwordForm.hidden = true;
    ui.qr.src = await QRCode.toDataURL(enrolment.otpauthUri, { margin: 1, width: 200 });
    ui.secret.textContent = enrolment.secret.replace(/(.{4})/g, '$1 ').trim();
    ui.uri.textContent = enrolment.otpauthUri;
    ui.confirmForm.hidden = false;
    ui.confirmCode.focus();
  }

  ui.passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    hooks.clearMessages();
    const purpose = stepUpFor;
    const proof = typedStepUp();
    const buttonText = ui.passwordButton.textContent ?? 'Continue';
    void hooks.busy(ui.passwordButton, async () => {
      try {
        await confirmWith(purpose, proof);
      } catch (error) {
        if (!(error instanceof SecondFactorRequiredError)) throw error;
        // A factor set up elsewhere since the status was read: ask for it now, never leave the password form up.
        const factors = await renderStatus();
        askPassword(purpose, buttonText);
        throw new UserMistake(factorNeededMessage(factors));
      }
    });
  });

  stepUpPasskey.addEventListener('click', () => {
    hooks.clearMessages();
    const purpose = stepUpFor;
    void hooks.busy(stepUpPasskey, async () => confirmWith(purpose, await passkeyStepUp(mfa)));
  });

  ui.confirmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    hooks.clearMessages();
    void hooks.busy(ui.confirmButton, async () => {
      const codes = await mfa.confirmTotp(ui.confirmCode.value.replace(/\s/g, '')).catch((error: unknown) => {
        // A wrong code is the person's to fix, not a password mismatch.
        throw error instanceof InvalidCredentialsError
          ? new UserMistake(
              "That code did not work. Enter the newest code your authenticator app shows, and check that the phone's clock is right.",
            )
          : error;
      });
      // From now on a step-up needs the factor, even before the status is read again.
      setFactors({ ...factorsOn, totp: true, recoveryCodes: codes.length > 0 || factorsOn.recoveryCodes });
      resetCard();
      ui.setupButton.hidden = true;
      showRecoveryCodes(codes);
      hooks.showStatus('Authenticator app turned on. Save your recovery codes.');
    });
  });

  /** Shows the recovery codes, once; they leave the page with "I have saved them". */
  function showRecoveryCodes(codes: readonly string[]): void {
    ui.codesList.replaceChildren(
      ...codes.map((code) => Object.assign(document.createElement('li'), { textContent: code })),
    );
    ui.codesView.hidden = false;
    ui.securityState.textContent = 'Two-step verification is on.';
    ui.codesDone.focus();
  }

  ui.codesDone.addEventListener('click', () => {
    hooks.clearMessages();
    resetCard();
    renderStatus().catch(hooks.showError);
  });

  ui.removeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    hooks.clearMessages();
    void hooks.busy(ui.removeButton, async () => {
      await mfa.removeTotp(factorFrom(ui.removeCode.value));
      resetCard();
      await renderStatus();
      hooks.showStatus('Authenticator app turned off. Your password alone now signs you in.');
    });
  });

  tvm.onSessionChange((event) => (event.type === 'signedIn' ? showCard() : hideCard()));
  void tvm.getSession().then((session) => (session ? showCard() : hideCard()));

  async function loginWithPasskey(): Promise<SessionResult> {
    const { challenge, passkeyOptions } = await mfa.passkeyLoginOptions();
    const answer = await startAuthentication({
      optionsJSON: passkeyOptions as Parameters<typeof startAuthentication>[0]['optionsJSON'],
    });
    return mfa.loginWithPasskey(challenge, answer);
  }

  return {
    login,
    loginWithIdToken: (signIn) => withCodeStep(() => tvm.loginWithIdToken(signIn), 'Sign-in accepted. One more step.'),
    loginWithPasskey,
    refreshFactors: renderStatus,
  };
}
