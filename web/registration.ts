/**
 * Who may sign up here (the TVM's `registration` setting), as the server that serves the page
 * tells it in the `tvm-registration` meta tag (web/build.ts): `open` shows "Create account";
 * `invite` also shows the invite field (and on a first sign-in with a provider); `closed`
 * offers no sign-up at all, only logging in. The TVM enforces the setting whatever the page shows.
 */
import { element } from './dom';

/** One of the TVM's registration modes. */
export type PageRegistrationMode = 'open' | 'invite' | 'closed';

/** The mode the page was served with; anything unknown or unfilled counts as `open`, the TVM's default. */
export function registrationMode(): PageRegistrationMode {
  const content = document.querySelector<HTMLMetaElement>('meta[name="tvm-registration"]')?.content.trim() ?? '';
  return content === 'invite' || content === 'closed' ? content : 'open';
}

const invite = {
  row: element<HTMLDivElement>('invite-row'),
  input: element<HTMLInputElement>('invite'),
  oidcRow: element<HTMLDivElement>('oidc-invite-row'),
  oidcInput: element<HTMLInputElement>('oidc-invite'),
};

/** Shows the sign-up the mode allows: the invite fields only for `invite`, no "Create account" for `closed`. */
export function applyRegistrationMode(): void {
  const mode = registrationMode();
  invite.row.hidden = mode !== 'invite';
  invite.oidcRow.hidden = mode !== 'invite';
  element<HTMLButtonElement>('register-button').hidden = mode === 'closed';
  element<HTMLParagraphElement>('closed-hint').hidden = mode !== 'closed';
  element<HTMLHeadingElement>('auth-title').textContent = mode === 'closed' ? 'Log in' : 'Log in or create an account';
  document.body.dataset['registration'] = mode;
}

/** The invite typed on the login form (for "Create account"), or undefined when none is asked for or typed. */
export function typedInvite(): string | undefined {
  return inviteOf(invite.input);
}

/** The invite typed on a first provider sign-in's name screen. */
export function typedOidcInvite(): string | undefined {
  return inviteOf(invite.oidcInput);
}

function inviteOf(input: HTMLInputElement): string | undefined {
  if (registrationMode() !== 'invite') return undefined;
  // Pasted codes often bring a space or a line break along.
  const typed = input.value.replace(/\s+/g, '');
  return typed === '' ? undefined : typed;
}

/** Points at the invite field after a refusal of the invite. */
export function markInviteInvalid(onNameScreen: boolean): void {
  const input = onNameScreen ? invite.oidcInput : invite.input;
  if (registrationMode() !== 'invite') return;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

/** Drops the mark a refused invite left, before the next attempt. */
export function unmarkInvites(): void {
  for (const input of [invite.input, invite.oidcInput]) input.removeAttribute('aria-invalid');
}

/** Empties both invite fields (logout, a new account made). */
export function clearInvites(): void {
  for (const input of [invite.input, invite.oidcInput]) {
    input.value = '';
    input.removeAttribute('aria-invalid');
  }
}
