/**
 * Outside sign-in providers in the page: "Sign in with <provider>" on the login screen, the
 * first sign-in's "choose a name" screen (the TVM answers username_required; an ID token goes
 * again with the name: the one in hand, or a fresh one when the TVM has spent its nonce), and the account card's linked sign-ins (list, link another,
 * unlink), each change after a step-up. web/oidc.ts makes the trips to the provider.
 */
import {
  InvalidCredentialsError,
  TvmIdentities,
  UsernameRequiredError,
  InviteRequiredError,
  type IdentitySummary,
  type SessionResult,
  type StepUp,
} from '@serverless-tvm/client';
import { askStepUp, closeStepUp } from './account';
import { button, element } from './dom';
import { clearMessages, showErrorText, showStatus } from './feedback';
import { UserMistake } from './messages';
import { configuredProviders, PENDING_KEY, startProviderSignIn, type ProviderAnswer } from './oidc';
import { tvm } from './session';
import { markInviteInvalid, typedOidcInvite } from './registration';

const identities = new TvmIdentities(tvm);

/** What app.ts lends this module. */
export interface IdentityHooks {
  busy(control: HTMLButtonElement, action: () => Promise<void>): Promise<void>;
  /** A provider sign-in that may meet the code step of a second factor (web/mfa.ts); undefined when cancelled there. */
  loginWithIdToken(signIn: {
    provider: string;
    idToken: string;
    username?: string;
    invite?: string;
  }): Promise<SessionResult | undefined>;
  /** After a sign-in: the files view, as after a login. */
  enter(result: SessionResult, welcome: string): Promise<void>;
  /** Shows a failure as the rest of the page does. */
  report(error: unknown): Promise<void>;
}

const ui = {
  authView: element<HTMLElement>('auth-view'),
  providerSignIn: element<HTMLDivElement>('provider-signin'),
  providerButtons: element<HTMLDivElement>('provider-buttons'),
  usernameView: element<HTMLElement>('oidc-username-view'),
  usernameTitle: element<HTMLHeadingElement>('oidc-username-title'),
  usernameHint: element<HTMLParagraphElement>('oidc-username-hint'),
  usernameForm: element<HTMLFormElement>('oidc-username-form'),
  username: element<HTMLInputElement>('oidc-username'),
  usernameButton: element<HTMLButtonElement>('oidc-username-button'),
  usernameCancel: element<HTMLButtonElement>('oidc-username-cancel'),
  block: element<HTMLDivElement>('identities-block'),
  list: element<HTMLUListElement>('identity-list'),
  refresh: element<HTMLButtonElement>('identities-refresh'),
  linkButtons: element<HTMLDivElement>('identity-link-buttons'),
};

/** A provider's ID token waiting for the name of its new account (memory only: it goes once, to the TVM). */
let waiting: { readonly provider: string; readonly idToken: string } | undefined;

/** The linked identities the card last showed. */
let linked: readonly IdentitySummary[] = [];

const REFUSED = (provider: string) =>
  new UserMistake(
    `The sign-in with ${provider} was refused. It may have taken too long, or been used already: start it again.`,
  );

function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** The login screen's "Sign in with" buttons, one per provider the server named; none, no section. */
function renderSignInButtons(hooks: IdentityHooks): void {
  const providers = configuredProviders();
  ui.providerButtons.replaceChildren(
    ...providers.map((provider) =>
      button(`Sign in with ${provider.name}`, `Sign in with ${provider.name}`, 'secondary', (control) => {
        clearMessages();
        void hooks.busy(control, () => startProviderSignIn(tvm, provider, { kind: 'login' }));
      }),
    ),
  );
  ui.providerSignIn.hidden = providers.length === 0;
}

/** The first sign-in of an identity: ask for the new account's name. */
function askUsername(answer: { readonly provider: string; readonly idToken: string }): void {
  waiting = { provider: answer.provider, idToken: answer.idToken };
  ui.authView.hidden = true;
  ui.usernameForm.reset();
  ui.usernameHint.textContent = `You signed in with ${answer.provider} for the first time here. Choose a name for your new account; you will sign in with ${answer.provider} from now on.`;
  ui.usernameView.hidden = false;
  showStatus(`Signed in with ${answer.provider}. One more step: choose a name.`);
  ui.username.focus();
}

/**
 * Creates the account of a first sign-in with its chosen name, and enters it. A refused name
 * (taken, or breaking the rules) keeps the name screen, pointing at the field.
 * @throws InvalidCredentialsError when the TVM refuses the token itself.
 */
async function createAccount(
  hooks: IdentityHooks,
  signUp: { readonly provider: string; readonly idToken: string; readonly username: string; readonly invite?: string },
): Promise<void> {
  let result: SessionResult | undefined;
  try {
    result = await hooks.loginWithIdToken(signUp);
  } catch (error) {
    if (error instanceof InvalidCredentialsError || error instanceof UsernameRequiredError) throw error;
    if (ui.usernameView.hidden) askUsername(signUp);
    if (error instanceof InviteRequiredError) {
      ui.username.value = signUp.username;
      markInviteInvalid(true);
      throw error;
    }
    ui.username.value = signUp.username;
    ui.username.setAttribute('aria-invalid', 'true');
    ui.username.focus();
    throw error;
  }
  if (!result) return;
  closeUsername();
  await hooks.enter(result, `Welcome, ${result.username}! Your folder is ready.`);
}

function closeUsername(): void {
  waiting = undefined;
  ui.usernameForm.reset();
  ui.username.removeAttribute('aria-invalid');
  ui.usernameView.hidden = true;
}

/** Signs in with a provider's answer: the files view, or the name screen for a new identity. */
async function signIn(answer: ProviderAnswer, hooks: IdentityHooks): Promise<void> {
  let result: SessionResult | undefined;
  try {
    result = await hooks.loginWithIdToken({ provider: answer.provider, idToken: answer.idToken });
  } catch (error) {
    if (error instanceof UsernameRequiredError) return askUsername(answer);
    if (error instanceof InvalidCredentialsError) throw REFUSED(answer.provider);
    throw error;
  }
  if (result) await hooks.enter(result, `Welcome back, ${result.username}.`);
}

function identityItem(identity: IdentitySummary, hooks: IdentityHooks): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'session';
  const text = document.createElement('span');
  text.textContent = `${identity.provider} · linked ${when(identity.linkedAt)}`;
  const unlink = button(
    'Unlink',
    `Unlink the ${identity.provider} sign-in linked ${when(identity.linkedAt)}`,
    'secondary small',
    (control) =>
      askStepUp(
        `Unlink this ${identity.provider} sign-in? It will no longer sign you in to this account.`,
        'Unlink',
        control,
        async (proof: StepUp) => {
          await identities.unlink(identity.id, proof);
          await unlinked(identity);
        },
        viaLinkedProvider(hooks, (provider) =>
          startProviderSignIn(tvm, providerNamed(provider), { kind: 'unlink', carry: { id: identity.id } }),
        ),
      ),
  );
  item.append(text, unlink);
  return item;
}

/** After an unlink: the step-up closed, the list read again. */
async function unlinked(identity: IdentitySummary): Promise<void> {
  closeStepUp();
  await renderList();
  showStatus(`Unlinked the ${identity.provider} sign-in.`);
}

function providerNamed(name: string) {
  const provider = configuredProviders().find((candidate) => candidate.name === name);
  if (!provider) throw new UserMistake(`The sign-in service "${name}" is not offered here.`);
  return provider;
}

/** The step-up's "Confirm with <provider>" buttons: the providers of the linked sign-ins, offered here. */
function viaLinkedProvider(hooks: IdentityHooks, leave: (provider: string) => Promise<void>) {
  const offered = new Set(configuredProviders().map((provider) => provider.name));
  const providers = [...new Set(linked.map((identity) => identity.provider))].filter((name) => offered.has(name));
  return {
    providers,
    confirm: (provider: string) => {
      clearMessages();
      void hooks.busy(ui.refresh, () => leave(provider));
    },
  };
}

async function renderList(): Promise<void> {
  const list = await identities.list();
  linked = list.identities;
  ui.list.replaceChildren(...linked.map((identity) => identityItem(identity, currentHooks)));
  ui.refresh.textContent = 'Refresh the list';
  if (linked.length === 0) {
    const none = document.createElement('li');
    none.className = 'session';
    none.textContent = 'No sign-in providers are linked to this account.';
    ui.list.replaceChildren(none);
  }
}

/** Asks for the step-up of a link, the new identity's token in hand. */
function confirmLink(answer: ProviderAnswer, hooks: IdentityHooks): void {
  askStepUp(
    `Link this ${answer.provider} sign-in to your account? It will sign you in here from now on.`,
    'Link',
    ui.refresh,
    async (proof: StepUp) => {
      await linkWith(answer, proof);
    },
    viaLinkedProvider(hooks, (provider) =>
      startProviderSignIn(tvm, providerNamed(provider), {
        kind: 'link-confirm',
        carry: { provider: answer.provider, idToken: answer.idToken },
      }),
    ),
  );
  showStatus(`Signed in with ${answer.provider}. Confirm it is you to link it.`);
}

async function linkWith(
  identity: { readonly provider: string; readonly idToken: string },
  proof: StepUp | { readonly provider: string; readonly idToken: string },
): Promise<void> {
  const link = await identities.link(identity, proof).catch((error: unknown) => {
    // One answer for a refused token and a wrong proof: say both.
    if (error instanceof InvalidCredentialsError && 'idToken' in proof)
      throw new UserMistake(
        `Linking ${identity.provider} was refused: the sign-in may have expired, or the one you confirmed with is not linked to this account. Start again.`,
      );
    throw error;
  });
  closeStepUp();
  await renderList();
  showStatus(`Linked the ${link.provider} sign-in to your account.`);
}

let currentHooks: IdentityHooks;

/** Shows the account card's block (after a login); nothing is fetched until asked. */
export function showIdentities(): void {
  resetIdentities();
  const providers = configuredProviders();
  ui.block.hidden = providers.length === 0;
  ui.linkButtons.replaceChildren(
    ...providers.map((provider) =>
      button(`Link a ${provider.name} sign-in`, `Link a ${provider.name} sign-in`, 'secondary', (control) => {
        clearMessages();
        void currentHooks.busy(control, () => startProviderSignIn(tvm, provider, { kind: 'link' }));
      }),
    ),
  );
}

/** Forgets the linked sign-ins and a waiting token (logout, session ended). */
export function resetIdentities(): void {
  linked = [];
  ui.list.replaceChildren();
  ui.refresh.textContent = 'Show linked sign-ins';
  ui.block.hidden = true;
  closeUsername();
  // A trip under way carries nothing of the next person's (a link's waiting token, say).
  try {
    sessionStorage.removeItem(PENDING_KEY);
  } catch {
    // Storage blocked: nothing was kept either.
  }
}

/** Wires the login screen's buttons, the name screen and the account card's block. */
export function wireIdentities(hooks: IdentityHooks): void {
  currentHooks = hooks;
  renderSignInButtons(hooks);
  ui.refresh.addEventListener('click', () => {
    clearMessages();
    void hooks.busy(ui.refresh, async () => {
      await renderList();
      showStatus('Your linked sign-ins are listed.');
    });
  });
  ui.usernameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearMessages();
    const pending = waiting;
    if (!pending) return;
    const username = ui.username.value.trim();
    if (username === '') {
      ui.username.setAttribute('aria-invalid', 'true');
      ui.username.focus();
      showErrorText('Enter a name for your new account.');
      return;
    }
    ui.username.removeAttribute('aria-invalid');
    const invite = typedOidcInvite();
    void hooks.busy(ui.usernameButton, async () => {
      showStatus('Creating your account…');
      try {
        await createAccount(hooks, { ...pending, username, ...(invite !== undefined ? { invite } : {}) });
      } catch (error) {
        if (!(error instanceof InvalidCredentialsError)) throw error;
        // The token cannot go again (the TVM may spend its nonce on the first answer, or it
        // aged): one more trip to the provider brings a fresh one, and the name waits meanwhile.
        showStatus(`To finish, sign in with ${pending.provider} once more.`);
        await startProviderSignIn(tvm, providerNamed(pending.provider), { kind: 'signup', carry: { username } });
      }
    });
  });
  ui.usernameCancel.addEventListener('click', () => {
    clearMessages();
    closeUsername();
    ui.authView.hidden = false;
    showStatus('No account was created.');
  });
}

/**
 * When the page comes back from a provider: finishes what the trip was for (a sign-in, a link,
 * its confirmation, an unlink). `trip` is web/oidc.ts finishProviderSignIn's, called first thing at
 * start (it takes the trip from sessionStorage before anything can clear it). Resolves true
 * when the page did come back from one.
 */
export async function resumeProviderSignIn(
  hooks: IdentityHooks,
  signedIn: boolean,
  trip: Promise<ProviderAnswer | undefined>,
): Promise<boolean> {
  let answer: ProviderAnswer | undefined;
  try {
    answer = await trip;
  } catch (error) {
    await hooks.report(error);
    return true;
  }
  if (!answer) return false;
  const { purpose } = answer;
  try {
    if (purpose.kind === 'login') {
      await signIn(answer, hooks);
      return true;
    }
    if (purpose.kind === 'signup') {
      await createAccount(hooks, { provider: answer.provider, idToken: answer.idToken, ...purpose.carry }).catch(
        (error: unknown) => {
          throw error instanceof InvalidCredentialsError ? REFUSED(answer.provider) : error;
        },
      );
      return true;
    }
    if (!signedIn) throw new UserMistake('Your session ended before the sign-in came back. Log in and start again.');
    await renderList();
    if (purpose.kind === 'link') confirmLink(answer, hooks);
    else if (purpose.kind === 'link-confirm') await linkWith(purpose.carry, answer);
    else {
      const identity = linked.find((candidate) => candidate.id === purpose.carry.id);
      await identities.unlink(purpose.carry.id, answer);
      await unlinked(identity ?? { id: purpose.carry.id, provider: 'provider', linkedAt: new Date().toISOString() });
    }
  } catch (error) {
    await hooks.report(error);
  }
  return true;
}
