/**
 * The web app's two-step verification in Chromium against the sandbox: set up an
 * authenticator app from the QR code's setup link, see the recovery codes once, log in with a
 * code computed here as the app would, log in with a recovery code, and turn it off.
 *
 * Without Chromium this file FAILS (web-app-fixture.ts): a skipped browser test would let CI go green untested.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import {
  LoginRequiredError,
  MemorySessionStore,
  SecondFactorRequiredError,
  TvmClient,
  TvmMfa,
} from '@serverless-tvm/client';
import { totpCode, totpStep } from '../../lambda/second-factor/totp';
import type { Sandbox } from '../../local/sandbox';
import {
  logOut as logOutOf,
  startWebApp,
  submitAuthForm,
  waitForWelcome as waitForWelcomeIn,
  type WebAppFixture,
} from './web-app-fixture';

const ARTIFACTS = resolve(__dirname, '../../test-artifacts');
const carol = { username: 'carol', password: 'correct horse battery staple' };

let fixture: WebAppFixture | undefined;
let sandbox: Sandbox | undefined;
let page: Page;
const pageErrors: string[] = [];
/** What the authenticator app knows: the secret, and the last step it gave a code for. */
const app = { secret: '', lastStep: -1, recoveryCodes: [] as string[] };

/** The next code an authenticator app would show: always for a later step than the last one used. */
async function nextCode(): Promise<string> {
  const step = Math.max(totpStep(Date.now()), app.lastStep + 1);
  // The server accepts one step ahead of its clock; never more is needed here.
  if (step > totpStep(Date.now()) + 1) throw new Error('the test used more codes than it plans for');
  app.lastStep = step;
  return totpCode(app.secret, step * 30_000);
}

beforeAll(async () => {
  fixture = await startWebApp({ pageErrors, viewport: { width: 1200, height: 900 } });
  ({ sandbox, page } = fixture);
}, 60_000);

afterAll(async () => {
  await fixture?.close();
});

const submitPassword = (button: 'Log in' | 'Create account') => submitAuthForm(page, carol, button);
const waitForWelcome = () => waitForWelcomeIn(page, pageErrors);
const logOut = () => logOutOf(page);

describe('two-step verification in Chromium', () => {
  it('sets up an authenticator app: QR code and key shown, recovery codes shown once', async () => {
    await page.goto(`${sandbox?.apiUrl}/`);
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    await submitPassword('Create account');
    await waitForWelcome();
    await page.locator('#security-view[data-mfa="off"]').waitFor();
    expect(await page.locator('#security-state').textContent()).toMatch(/off/);

    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    await page.getByLabel('Current password').fill(carol.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#totp-confirm-form:not([hidden])').waitFor();

    const uri = (await page.locator('#totp-uri').textContent()) ?? '';
    expect(uri).toMatch(/^otpauth:\/\/totp\/.*carol/);
    app.secret = new URL(uri).searchParams.get('secret') ?? '';
    expect((await page.locator('#totp-secret').textContent())?.replace(/\s/g, '')).toBe(app.secret);
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    // The image decoded: a real QR code, not a broken image.
    expect(await qr.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth >= 100)).toBe(true);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-app-totp-setup.png'), fullPage: true });
    // A wrong code first: it is called a wrong code, not a wrong username and password.
    const setupCode = await nextCode();
    await page.getByLabel('Code from the app').fill(setupCode === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#error').textContent()).toBe(
      "That code did not work. Enter the newest code your authenticator app shows, and check that the phone's clock is right.",
    );
    await page.getByLabel('Code from the app').fill(setupCode);
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#recovery-codes-view:not([hidden])').waitFor();
    app.recoveryCodes = await page.locator('#recovery-codes li').allTextContents();
    expect(app.recoveryCodes).toHaveLength(10);
    await page.screenshot({ path: join(ARTIFACTS, 'web-app-recovery-codes.png'), fullPage: true });
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.locator('#security-view[data-mfa="on"]').waitFor();
    expect(await page.locator('#recovery-codes li').count()).toBe(0);
    expect(await page.locator('#security-state').textContent()).toMatch(
      /on: authenticator app\. 10 recovery codes left/,
    );
  });

  it('asks for the code after the password, refuses a wrong one, and signs in with the right one', async () => {
    await logOut();
    await submitPassword('Log in');
    await page.locator('#mfa-view:not([hidden])').waitFor();
    expect(await page.locator('#files-view').isVisible()).toBe(false);
    const right = await nextCode();
    await page.getByLabel('Authentication code', { exact: true }).fill(right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#error').textContent()).toMatch(/code did not work/);
    await page.getByLabel('Authentication code', { exact: true }).fill(right);
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForWelcome();
    expect(await page.locator('#account-name').textContent()).toBe(carol.username);
  });

  it('signs in with a recovery code instead, once', async () => {
    await logOut();
    await submitPassword('Log in');
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code', { exact: true }).fill(app.recoveryCodes[0]!.toLowerCase());
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForWelcome();
    await page.locator('#security-state').filter({ hasText: 'recovery codes left' }).waitFor();
    expect(await page.locator('#security-state').textContent()).toMatch(/ 9 recovery codes left/);

    await logOut();
    await submitPassword('Log in');
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code', { exact: true }).fill(app.recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#files-view').isVisible()).toBe(false);
    await page.getByLabel('Recovery code', { exact: true }).fill(app.recoveryCodes[2]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForWelcome();
  });

  it("ends another device's session with a code from the app as the step-up, instead of the password", async () => {
    const phone = new TvmClient({ baseUrl: sandbox!.apiUrl, sessionStore: new MemorySessionStore(), device: 'phone' });
    const challenge = await phone.login(carol.username, carol.password).then(
      () => undefined,
      (error: unknown) => (error instanceof SecondFactorRequiredError ? error.challenge : undefined),
    );
    expect(challenge).toBeDefined();
    await new TvmMfa(phone).completeLogin(challenge!, { recoveryCode: app.recoveryCodes[3]! });

    await page.getByRole('button', { name: 'Show my sessions' }).click();
    await page.locator('#session-list li').nth(1).waitFor();
    await page.getByRole('button', { name: /^End the session of phone/ }).click();
    // Codes are one per 30 s step and never reused: wait for a step the app has not given yet.
    while (app.lastStep + 1 > totpStep(Date.now()) + 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
    await page.getByLabel('Confirmation code').fill(await nextCode());
    await page.getByRole('button', { name: 'End session', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'Ended the session of phone.' }).waitFor();
    await expect(phone.token()).rejects.toBeInstanceOf(LoginRequiredError);
  }, 60_000);

  it('turns the authenticator app off with a recovery code, after which the password alone signs in', async () => {
    await page.getByLabel('Code from your app, or a recovery code').fill(app.recoveryCodes[1]!);
    await page.getByRole('button', { name: 'Turn off authenticator app' }).click();
    await page.locator('#security-view[data-mfa="off"]').waitFor();
    await logOut();
    await submitPassword('Log in');
    await waitForWelcome();
    // The app logs every failure it shows; the only ones here are the wrong code's 401 and its message.
    expect(pageErrors.filter((error) => !/401|Failed to load resource|That code did not work/.test(error))).toEqual([]);
  });
});
