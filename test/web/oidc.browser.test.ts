/**
 * Sign-in with an outside provider in Chromium, against the sandbox and its dev IdP (provider
 * `dev`, local/oidc/): the page's authorization code flow with PKCE, a first sign-in that asks
 * for a name and creates the account (whose files work), the same identity finding the same
 * account after logout, a second identity linked from the account card (confirmed by signing in
 * again with the first) and unlinked, the refusal to unlink the last way in, and the screens
 * axe-clean without sideways scrolling at 390 px.
 */
import type { Page } from 'playwright-core';
import {
  entryNames,
  logOutOf,
  seriousAccessibilityViolations,
  sidewaysOverflow,
  startApp,
  waitForFolder,
  type AppUnderTest,
} from './file-store-helpers';

let app: AppUnderTest;

beforeAll(async () => {
  app = await startApp({ width: 1280, height: 900 });
}, 90_000);

afterAll(async () => {
  await app?.close();
});

/** Waits for a status line, or fails with the error the page showed. */
async function status(text: string | RegExp): Promise<void> {
  const error = app.page.locator('#error:not([hidden])');
  await app.page.locator('#status').filter({ hasText: text }).or(error).waitFor();
  if (await error.isVisible())
    throw new Error(`The app showed an error: ${await error.textContent()}\n${app.pageErrors.join('\n')}`);
}

/** Waits for the error banner to say `text`. */
async function errorShown(text: string | RegExp): Promise<void> {
  await app.page.locator('#error:not([hidden])').filter({ hasText: text }).waitFor();
}

/** On the dev IdP's sign-in page (after the app sent the browser there): types the subject and signs in. */
async function signInAtDevIdp(page: Page, subject: string): Promise<void> {
  await page.waitForURL((url) => url.pathname === '/authorize' && url.origin === app.sandbox.devIdp.issuer);
  await page.getByLabel('Subject (user id)').fill(subject);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // Back at the app, which finishes the sign-in as it loads.
  await page.waitForURL((url) => url.origin !== app.sandbox.devIdp.issuer);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
}

/**
 * Submits the name screen for `subject`'s first sign-in. The page sends the same ID token again
 * with the name; when the TVM has already spent that token's nonce (it answers 401), the page
 * asks the provider once more and sends the fresh token with the name: either way ends here.
 */
async function submitName(page: Page, name: string, subject: string): Promise<void> {
  await page.getByLabel('Name for your new account', { exact: true }).fill(name);
  const leftForIdp = page
    .waitForURL((url) => url.origin === app.sandbox.devIdp.issuer)
    .then(() => true)
    .catch(() => false);
  const answered = page
    .locator('#status')
    .filter({ hasText: /Welcome/ })
    .or(page.locator('#error:not([hidden])'))
    .waitFor()
    .then(() => false)
    .catch(() => false);
  await page.getByRole('button', { name: 'Create my account' }).click();
  if (await Promise.race([leftForIdp, answered])) await signInAtDevIdp(page, subject);
}

/** The linked sign-ins the account card lists, as a person reads them. */
async function linkedSignIns(page: Page): Promise<string[]> {
  await page
    .getByRole('button', { name: /Show linked sign-ins|Refresh the list/ })
    .first()
    .click();
  await status('Your linked sign-ins are listed.');
  return page.locator('#identity-list li span').allTextContents();
}

const FIRST = 'carol@example-idp';
const SECOND = 'carol-work-7';

describe('sign-in with a provider in the web app', () => {
  it('a new identity signs in with dev, chooses a name, and gets a working folder of that name', async () => {
    const page = app.page;
    expect(await page.locator('meta[name="tvm-oidc-providers"]').getAttribute('content')).toContain(
      app.sandbox.devIdp.issuer,
    );
    await page.getByRole('button', { name: 'Sign in with dev' }).click();
    await signInAtDevIdp(page, FIRST);

    // The code and state are gone from the address bar once used.
    expect(new URL(page.url()).search).toBe('');
    await page.getByRole('heading', { name: 'Choose a name for your new account' }).waitFor();
    expect(await page.locator('#auth-view').isHidden()).toBe(true);
    await submitName(page, 'carol', FIRST);
    await waitForFolder(app);
    expect(await page.locator('#account-name').textContent()).toBe('carol');

    await page
      .locator('#file-input')
      .setInputFiles([{ name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from a provider') }]);
    await status(/Uploaded|uploaded/);
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await page.locator('#entries .entry-name', { hasText: 'hello.txt' }).waitFor();
    // No password was ever typed: nothing of the trip (verifier, state, nonce) is left in storage.
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('refuses an answer this tab did not ask for (a code and state sent from elsewhere), and clears it from the address bar', async () => {
    const page = app.page;
    await page.goto(
      `${app.sandbox.apiUrl}/?code=stolen-or-forged&state=not-this-tabs&iss=${encodeURIComponent(app.sandbox.devIdp.issuer)}`,
    );
    await errorShown('That sign-in was not started on this page. Start it again here.');
    expect(new URL(page.url()).search).toBe('');
    // Still carol's session, untouched.
    expect(await page.locator('#account-name').textContent()).toBe('carol');
  });

  it('after logout, the same identity signs in to the same account and finds its file', async () => {
    const page = app.page;
    await logOutOf(app);
    await page.getByRole('button', { name: 'Sign in with dev' }).click();
    await signInAtDevIdp(page, FIRST);
    await status('Welcome back, carol.');
    expect(await page.locator('#oidc-username-view').isHidden()).toBe(true);
    expect(await page.locator('#account-name').textContent()).toBe('carol');
    expect(await entryNames(page)).toContain('hello.txt');
  });

  it('links a second identity from the account card, confirmed by signing in again with the first; the second then signs in to carol', async () => {
    const page = app.page;
    expect(await linkedSignIns(page)).toEqual([expect.stringMatching(/^dev · linked /)]);

    await page.getByRole('button', { name: 'Link a dev sign-in' }).click();
    await signInAtDevIdp(page, SECOND);
    // Back with the new identity's token: the step-up asks for proof; this account has no password.
    await page.getByRole('button', { name: 'Confirm by signing in with dev' }).click();
    await signInAtDevIdp(page, FIRST);
    await status('Linked the dev sign-in to your account.');
    expect(await page.locator('#identity-list li span').allTextContents()).toHaveLength(2);

    await logOutOf(app);
    await page.getByRole('button', { name: 'Sign in with dev' }).click();
    await signInAtDevIdp(page, SECOND);
    await status('Welcome back, carol.');
  });

  it('has no serious accessibility violations and fits 390 px: login screen, name screen, linked sign-ins with the step-up open', async () => {
    const page = app.page;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      expect(await linkedSignIns(page)).toHaveLength(2);
      await page
        .getByRole('button', { name: /^Unlink the dev sign-in/ })
        .first()
        .click();
      await page.getByRole('button', { name: 'Confirm by signing in with dev' }).waitFor();
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      expect(await sidewaysOverflow(page)).toEqual([]);
      await page.getByRole('button', { name: 'Cancel' }).first().click();

      await logOutOf(app);
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      expect(await sidewaysOverflow(page)).toEqual([]);

      // A third identity, never linked: the name screen; cancelled, it creates nothing.
      await page.getByRole('button', { name: 'Sign in with dev' }).click();
      await signInAtDevIdp(page, 'someone-new');
      await page.getByRole('heading', { name: 'Choose a name for your new account' }).waitFor();
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      expect(await sidewaysOverflow(page)).toEqual([]);
      // A taken name is refused as register refuses it, and the screen stays for another.
      await submitName(page, 'carol', 'someone-new');
      await errorShown(/already taken/);
      expect(await page.locator('#oidc-username-view').isVisible()).toBe(true);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await status('No account was created.');
      expect(await page.locator('#auth-view').isVisible()).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('unlinks the second identity after confirming with the first, and refuses to unlink the last way in', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'Sign in with dev' }).click();
    await signInAtDevIdp(page, FIRST);
    await status('Welcome back, carol.');
    const before = await linkedSignIns(page);
    expect(before).toHaveLength(2);

    // Oldest first: the second one linked is the last in the list.
    await page
      .getByRole('button', { name: /^Unlink the dev sign-in/ })
      .nth(1)
      .click();
    await page.getByRole('button', { name: 'Confirm by signing in with dev' }).click();
    await signInAtDevIdp(page, FIRST);
    await status('Unlinked the dev sign-in.');
    expect(await page.locator('#identity-list li span').allTextContents()).toEqual([before[0]]);

    // The identity unlinked is unknown again: it would start a new account.
    await logOutOf(app);
    await page.getByRole('button', { name: 'Sign in with dev' }).click();
    await signInAtDevIdp(page, SECOND);
    await page.getByRole('heading', { name: 'Choose a name for your new account' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Sign in with dev' }).click();
    await signInAtDevIdp(page, FIRST);
    await status('Welcome back, carol.');
    expect(await linkedSignIns(page)).toHaveLength(1);
    await page.getByRole('button', { name: /^Unlink the dev sign-in/ }).click();
    await page.getByRole('button', { name: 'Confirm by signing in with dev' }).click();
    await signInAtDevIdp(page, FIRST);
    // The TVM's refusal is shown, and the identity stays.
    await errorShown(/only way to sign in to this account/);
    expect(await linkedSignIns(page)).toHaveLength(1);
  });
});
