/** The page's two message areas: one status line (polite) and one error (an alert). */
import { ui } from './dom';
import { plainError } from './messages';

export function clearMessages(): void {
  ui.error.textContent = '';
  ui.error.hidden = true;
  ui.status.textContent = '';
  for (const input of [ui.username, ui.password]) input.removeAttribute('aria-invalid');
}

export function showStatus(message: string): void {
  ui.status.textContent = message;
}

export function showErrorText(message: string): void {
  ui.status.textContent = '';
  ui.error.textContent = message;
  ui.error.hidden = false;
}

export function showError(error: unknown): void {
  // The person sees plain words; a developer with the console open sees the real failure.
  console.error(error);
  const plain = plainError(error);
  showErrorText(plain.message);
  if (plain.field && !ui.authView.hidden) {
    const input = plain.field === 'username' ? ui.username : ui.password;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}
