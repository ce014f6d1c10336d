/**
 * Passkeys in the web app, in Chromium with a CDP virtual authenticator (no real device):
 * register one after the current password (its recovery codes shown once, as the first
 * factor), answer a login's challenge with it, and remove it. The page is opened at the URL
 * the sandbox prints (`webAppUrl`, at `localhost`, the default relying-party id: WebAuthn refuses IP addresses).
 */
import type { CDPSession, Page } from 'playwright-core';
import {
  LoginRequiredError,
  MemorySessionStore,
  SecondFactorRequiredError,
  TvmClient,
  TvmMfa,
} from '@serverless-tvm/client';
import type { Sandbox } from '../../local/sandbox';
import {
  logOut as logOutOf,
  startWebApp,
  submitAuthForm,
  waitForWelcome as waitForWelcomeIn,
  type WebAppFixture,
} from './web-app-fixture';

const dave = { username: 'dave', password: 'correct horse battery staple' };

let fixture: WebAppFixture | undefined;
let sandbox: Sandbox | undefined;
let page: Page;
let cdp: CDPSession;
/** The virtual authenticator standing in for the person's device. */
let authenticatorId: string;
const pageErrors: string[] = [];
/** The recovery codes the page showed once. */
let recoveryCodes: string[] = [];

beforeAll(async () => {
  fixture = await startWebApp({ pageErrors, viewport: { width: 1200, height: 900 } });
  ({ sandbox, page } = fixture);
  cdp = await fixture.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  }));
}, 60_000);

afterAll(async () => {
  await fixture?.close();
});

const submitPassword = (button: 'Log in' | 'Create account') => submitAuthForm(page, dave, button);
const waitForWelcome = () => waitForWelcomeIn(page, pageErrors);
const logOut = () => logOutOf(page);

describe('passkeys in Chromium', () => {
  it('registers a passkey after the current password and shows the recovery codes once', async () => {
    // The URL the sandbox prints (npm start): passkeys must work there.
    await page.goto(sandbox!.webAppUrl);
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    await submitPassword('Create account');
    await waitForWelcome();
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByLabel('Current password').fill(dave.password);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    const error = page.locator('#error:not([hidden])');
    await page.locator('#recovery-codes-view:not([hidden])').or(error).waitFor();
    if (await error.isVisible())
      throw new Error(`The app showed an error: ${await error.textContent()}\n${pageErrors.join('\n')}`);
    recoveryCodes = await page.locator('#recovery-codes li').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.locator('#security-view[data-mfa="on"]').waitFor();
    expect(await page.locator('#security-state').textContent()).toMatch(/1 passkey\(s\)\. 10 recovery codes left/);
    expect(await page.locator('#passkey-list li').count()).toBe(1);
  });

  it('answers the login challenge with the passkey', async () => {
    await logOut();
    await submitPassword('Log in');
    await page.locator('#mfa-view:not([hidden])').waitFor();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await waitForWelcome();
    expect(await page.locator('#account-name').textContent()).toBe(dave.username);
  });

  it('signs in with the passkey alone (passwordless), the browser choosing it', async () => {
    await logOut();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await waitForWelcome();
    expect(await page.locator('#account-name').textContent()).toBe(dave.username);
  });

  it("in the account card, ends the phone's session and changes the password with the passkey as the step-up", async () => {
    const phone = new TvmClient({ baseUrl: sandbox!.apiUrl, sessionStore: new MemorySessionStore(), device: 'phone' });
    const challenge = await phone.login(dave.username, dave.password).then(
      () => undefined,
      (error: unknown) => (error instanceof SecondFactorRequiredError ? error.challenge : undefined),
    );
    await new TvmMfa(phone).completeLogin(challenge!, { recoveryCode: recoveryCodes[0]! });

    await page.getByRole('button', { name: 'Show my sessions' }).click();
    await page.locator('#session-list li').nth(1).waitFor();
    await page.getByRole('button', { name: /^End the session of phone/ }).click();
    // A passkey account without an app: a recovery code or the passkey, never the password.
    expect(await page.locator('#step-up-password').isVisible()).toBe(false);
    expect(await page.locator('#step-up-code-label').textContent()).toBe('Confirmation code: a recovery code');
    await page.getByRole('button', { name: 'Confirm with a passkey', exact: true }).click();
    await page
      .locator('#status')
      .filter({ hasText: 'Ended the session of phone.' })
      .or(page.locator('#error:not([hidden])'))
      .waitFor();
    expect(await page.locator('#status').textContent()).toBe('Ended the session of phone.');
    await expect(phone.token()).rejects.toBeInstanceOf(LoginRequiredError);

    const newPassword = 'dave changed it with his passkey';
    await page.getByLabel('Old password').fill(dave.password);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Change password with a passkey', exact: true }).click();
    await page
      .locator('#status')
      .filter({ hasText: 'Password changed.' })
      .or(page.locator('#error:not([hidden])'))
      .waitFor();
    expect(await page.locator('#status').textContent()).toMatch(/^Password changed\./);
    dave.password = newPassword;
  });

  it('removes the passkey after confirming with a factor (the passkey itself), not the password; the password alone then signs in', async () => {
    await page
      .locator('#passkey-list')
      .getByRole('button', { name: /^Remove / })
      .click();
    // The account has a second factor, so the step-up asks for it, not for the password.
    expect(await page.getByLabel('Current password').count()).toBe(0);
    await page.getByRole('button', { name: 'Use a passkey instead', exact: true }).click();
    await page.locator('#security-view[data-mfa="off"]').waitFor();
    expect(await page.locator('#passkey-list li').count()).toBe(0);
    await logOut();
    await submitPassword('Log in');
    await waitForWelcome();
  });

  it('at the IP address instead, says that passkeys need the app\'s name, not "Something went wrong"', async () => {
    await page.goto(`${sandbox!.apiUrl}/`);
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    if (await page.locator('#account').isVisible()) await logOut();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#error').textContent()).toMatch(/^Passkeys do not work at this address/);
  });
});
