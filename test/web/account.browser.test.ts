/**
 * The account screens and logout in Chromium, at 1280 px and at a 390 px phone width: one
 * person's names, uploads, credentials and account details are gone from the page when the
 * next person logs in in the same tab; the sessions list (end one, end all others, with the
 * step-up), a password change, redeeming an operator's reset code, and deleting one's account.
 */
import {
  MemorySessionStore,
  TvmClient,
  TvmMfa,
  LoginRequiredError,
  InvalidCredentialsError,
  SecondFactorRequiredError,
} from '@serverless-tvm/client';
import { totpCode, totpStep } from '../../lambda/second-factor/totp';
import {
  logOutOf,
  operator,
  screenshot,
  seriousAccessibilityViolations,
  SESSION_KEY,
  sidewaysOverflow,
  startApp,
  submitAuthForm,
  waitForFolder,
  type AppUnderTest,
} from './file-store-helpers';

const carol = { username: 'carol', password: 'correct horse battery staple' };
const dave = { username: 'dave', password: 'tr0ub4dor&3-but-longer' };
/** Names only carol's page ever shows: none may be in the page once she has left. */
const carolsNames = ['carol', 'secret-diary', 'ski-trip-2026.txt'];

let app: AppUnderTest;

beforeAll(async () => {
  app = await startApp({ width: 1280, height: 900 });
}, 60_000);

afterAll(async () => {
  await app?.close();
});

/** The page's whole DOM and the values of its inputs, as one text. */
async function pageText(): Promise<string> {
  return app.page.evaluate(
    () =>
      document.documentElement.outerHTML +
      [...document.querySelectorAll('input')].map((input) => input.value).join('\n'),
  );
}

/** The access key ids that signed the S3 requests made while `act` ran. */
async function accessKeysUsedBy(act: () => Promise<void>): Promise<Set<string>> {
  const keys = new Set<string>();
  const listener = (request: { url(): string; headers(): Record<string, string> }) => {
    if (!request.url().startsWith(app.sandbox.s3Url)) return;
    const match = /Credential=([^/]+)\//.exec(request.headers()['authorization'] ?? '');
    if (match) keys.add(match[1]!);
  };
  app.page.on('request', listener);
  try {
    await act();
  } finally {
    app.page.off('request', listener);
  }
  return keys;
}

/** A client of the same user elsewhere (a phone, a tablet): another session. */
async function otherDevice(user: { username: string; password: string }, device: string): Promise<TvmClient> {
  const client = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore(), device });
  await client.login(user.username, user.password);
  return client;
}

async function confirmStepUp(password: string, button: string): Promise<void> {
  await app.page.getByLabel('Your password').fill(password);
  await app.page.getByRole('button', { name: button, exact: true }).click();
}

describe('logout forgets the person', () => {
  it('carol logs out and dave, in the same tab, sees nothing of hers: no names, uploads, sessions or credentials', async () => {
    const page = app.page;
    const carolsKeys = await accessKeysUsedBy(async () => {
      await submitAuthForm(page, carol, 'Create account');
      await waitForFolder(app);
      await page.getByRole('button', { name: 'New folder' }).click();
      await page.getByLabel('Folder name').fill('secret-diary');
      await page.getByRole('button', { name: 'Create folder' }).click();
      await page.getByRole('button', { name: 'Open folder secret-diary' }).click();
      await page.locator('#breadcrumbs [aria-current]').filter({ hasText: 'secret-diary' }).waitFor();
      await page
        .getByLabel('Choose files to upload')
        .setInputFiles([{ name: 'ski-trip-2026.txt', mimeType: 'text/plain', buffer: Buffer.from('the ski trip') }]);
      await page.locator('#upload-list li[data-name="secret-diary/ski-trip-2026.txt"][data-state="done"]').waitFor();
      await page.getByRole('button', { name: 'Show my sessions' }).click();
      await page.locator('#session-list li').first().waitFor();
    });
    expect(carolsKeys.size).toBeGreaterThan(0);
    for (const name of carolsNames) expect(await pageText()).toContain(name);

    await logOutOf(app);
    const afterLogout = await pageText();
    for (const name of carolsNames) expect(afterLogout).not.toContain(name);
    expect(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).toBeNull();
    // Only the device token stays, under a hash: nothing in storage names carol or her files.
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toMatch(/carol|diary|ski-trip/);

    const davesKeys = await accessKeysUsedBy(async () => {
      await submitAuthForm(page, dave, 'Create account');
      await waitForFolder(app);
      await page.getByRole('button', { name: 'Show my sessions' }).click();
      await page.locator('#session-list li').first().waitFor();
    });
    const davesPage = await pageText();
    for (const name of carolsNames) expect(davesPage).not.toContain(name);
    expect(await page.locator('#uploads').isVisible()).toBe(false);
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);
    expect(await page.locator('#breadcrumbs').textContent()).toBe('My files');
    expect(await page.locator('#session-list li').count()).toBe(1);
    // Dave's listing was signed with his own credentials, never carol's cached ones.
    expect(davesKeys.size).toBeGreaterThan(0);
    expect([...davesKeys].filter((key) => carolsKeys.has(key))).toEqual([]);
  });
});

describe('the account card', () => {
  it("lists dave's sessions and ends another device's after his password; that device is then refused", async () => {
    const phone = await otherDevice(dave, 'phone');
    await app.page.getByRole('button', { name: 'Refresh the list' }).click();
    await app.page.locator('#session-list li').nth(1).waitFor();
    expect(await app.page.locator('#session-list li[data-current="true"]').textContent()).toMatch(
      /\(this browser\) · signed in /,
    );
    expect(await app.page.locator('#session-list li[data-current="false"]').textContent()).toMatch(
      /^phone · signed in/,
    );

    await app.page.getByRole('button', { name: /^End the session of phone/ }).click();
    // Dave has no second factor: the step-up asks for his password, and for no code.
    expect(await app.page.locator('#step-up-code').isVisible()).toBe(false);
    expect(await app.page.locator('#step-up-passkey').isVisible()).toBe(false);
    await confirmStepUp('not his password at all', 'End session');
    await app.page.locator('#error').filter({ hasText: 'That password or code is not right.' }).waitFor();
    await confirmStepUp(dave.password, 'End session');
    await app.page.locator('#status').filter({ hasText: 'Ended the session of phone.' }).waitFor();
    expect(await app.page.locator('#session-list li').count()).toBe(1);
    await expect(phone.token()).rejects.toBeInstanceOf(LoginRequiredError);
  });

  it('ends all other sessions at once', async () => {
    const devices = [await otherDevice(dave, 'tablet'), await otherDevice(dave, 'laptop')];
    await app.page.getByRole('button', { name: 'Refresh the list' }).click();
    await app.page.locator('#session-list li').nth(2).waitFor();
    await app.page.getByRole('button', { name: 'End all other sessions' }).click();
    await confirmStepUp(dave.password, 'End other sessions');
    await app.page.locator('#status').filter({ hasText: 'Ended 2 other sessions.' }).waitFor();
    expect(await app.page.locator('#session-list li').count()).toBe(1);
    expect(await app.page.locator('#sessions-end-others').isVisible()).toBe(false);
    for (const device of devices) await expect(device.token()).rejects.toBeInstanceOf(LoginRequiredError);
    // This tab's session still works.
    await app.page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await app.page.locator('#status').filter({ hasText: 'File list updated.' }).waitFor();
  });

  it('has no serious accessibility violations, and fits a 390 px phone without sideways scrolling', async () => {
    expect(await seriousAccessibilityViolations(app.page)).toEqual([]);
    await app.page.setViewportSize({ width: 390, height: 844 });
    try {
      expect(await sidewaysOverflow(app.page)).toEqual([]);
      expect(await seriousAccessibilityViolations(app.page)).toEqual([]);
      await app.page.locator('#account-view').scrollIntoViewIfNeeded();
      await screenshot(app.page, 'web-app-account-phone.png');
    } finally {
      await app.page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("changes dave's password: the new one logs in, the old one no longer does, and this tab stays signed in", async () => {
    const newPassword = 'a brand new passphrase for dave';
    expect(await app.page.locator('#password-code').isVisible()).toBe(false);
    await app.page.getByLabel('Old password').fill(dave.password);
    await app.page.getByLabel('New password', { exact: true }).fill(newPassword);
    await app.page.getByRole('button', { name: 'Change password' }).click();
    await app.page.locator('#status').filter({ hasText: 'Password changed.' }).waitFor();
    await app.page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await app.page.locator('#status').filter({ hasText: 'File list updated.' }).waitFor();

    const check = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore() });
    await expect(check.login(dave.username, dave.password)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await check.login(dave.username, newPassword);
    await check.logout();
    dave.password = newPassword;
  });

  it("redeems an operator's reset code on the login screen and logs dave in with the new password", async () => {
    const issued = await operator(app, ['reset-code', dave.username]);
    expect(issued.code).toBe(0);
    const code = /Reset code for dave: (\S+)/.exec(issued.out)?.[1] ?? '';
    expect(code).not.toBe('');
    await logOutOf(app);

    const newPassword = 'reset by the operator for dave';
    await app.page.getByLabel('Username').fill(dave.username);
    await app.page.getByRole('button', { name: 'I have a password reset code' }).click();
    expect(await seriousAccessibilityViolations(app.page)).toEqual([]);
    await app.page.getByLabel('Reset code').fill(code.split('').reverse().join(''));
    await app.page.getByLabel('Choose a new password').fill(newPassword);
    await app.page.getByRole('button', { name: 'Set new password and log in' }).click();
    await app.page.locator('#error').filter({ hasText: 'That reset code did not work' }).waitFor();
    await app.page.getByLabel('Reset code').fill(code);
    await app.page.getByRole('button', { name: 'Set new password and log in' }).click();
    await waitForFolder(app);
    expect(await app.page.locator('#account-name').textContent()).toBe(dave.username);
    expect(await app.page.locator('#reset-form').isVisible()).toBe(false);

    // The code worked once; the password it set is dave's now.
    const check = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore() });
    await check.login(dave.username, newPassword);
    await check.logout();
    dave.password = newPassword;
  });

  it("deletes dave's account after his password, then forgets him; the server refuses his password and, once the worker ran, holds his name", async () => {
    const sent = await requestsTo('/account', async () => {
      const questions: string[] = [];
      app.page.once('dialog', (dialog) => {
        questions.push(dialog.message());
        void dialog.accept();
      });
      await app.page.getByRole('button', { name: 'Delete my account…' }).click();
      await confirmStepUp(dave.password, 'Delete my account');
      await app.page.locator('#auth-view').waitFor({ state: 'visible' });
      expect(questions).toEqual(['Delete your account and all your files for good?']);
    });
    expect(sent).toEqual([{ method: 'DELETE', body: { currentPassword: dave.password }, status: 202 }]);
    expect(await app.page.locator('#status').textContent()).toMatch(
      /^Your account is being deleted\. It is gone for good by /,
    );
    expect(await app.page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).toBeNull();
    expect(await pageText()).not.toContain('dave');
    await expectDeletedOnServer(dave);
  });
});

/** The requests the page sent to an API path while `act` ran: method, JSON body and the status it got. */
async function requestsTo(
  path: string,
  act: () => Promise<void>,
): Promise<Array<{ method: string; body: unknown; status?: number }>> {
  const seen: Array<{ method: string; body: unknown; status?: number }> = [];
  const pending: Promise<void>[] = [];
  const listener = (request: {
    url(): string;
    method(): string;
    postData(): string | null;
    response(): Promise<{ status(): number } | null>;
  }) => {
    if (request.url() !== `${app.sandbox.apiUrl}${path}` || request.method() === 'OPTIONS') return;
    const entry: { method: string; body: unknown; status?: number } = {
      method: request.method(),
      body: JSON.parse(request.postData() ?? 'null'),
    };
    seen.push(entry);
    pending.push(request.response().then((response) => void (entry.status = response?.status())));
  };
  app.page.on('request', listener);
  try {
    await act();
    await Promise.all(pending);
  } finally {
    app.page.off('request', listener);
  }
  return seen;
}

/** The account is gone on the server: the password no longer logs in, and after the worker's sweeps the name is held. */
async function expectDeletedOnServer(user: { username: string; password: string }): Promise<void> {
  const client = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore() });
  await expect(client.login(user.username, user.password)).rejects.toBeInstanceOf(InvalidCredentialsError);
  // The worker's two steps (cut-off, then files and records); the sandbox's timer may run them too.
  await app.sandbox.sweepDeletions();
  await app.sandbox.sweepDeletions();
  // Nothing of hers is left in the queue: the deletion finished (the 409 below is the name hold).
  expect((await app.sandbox.sweepDeletions()).filter((outcome) => outcome.username === user.username)).toEqual([]);
  const again = await fetch(`${app.sandbox.apiUrl}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: 'a fresh start for this name' }),
  });
  expect(again.status).toBe(409);
}

/** Erin's authenticator app: the secret, and the last 30 s step it gave a code for. */
const erin = {
  username: 'erin',
  password: 'erin keeps two factors close',
  secret: '',
  lastStep: -1,
  recoveryCodes: [] as string[],
};

/** The next code erin's app shows: for a later step than the last one used (the server refuses a code twice), waiting for it if need be. */
async function erinsNextCode(): Promise<string> {
  // The server accepts one step ahead of its clock; a later step must wait for the clock.
  while (erin.lastStep + 1 > totpStep(Date.now()) + 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
  erin.lastStep = Math.max(totpStep(Date.now()), erin.lastStep + 1);
  return totpCode(erin.secret, erin.lastStep * 30_000);
}

describe('the account card on an account with an authenticator app', () => {
  let phone: TvmClient;

  it("asks for the code, with a clear message, when the password alone meets an app set up elsewhere; a code then ends the phone's session", async () => {
    const page = app.page;
    await page.locator('#auth-view').waitFor({ state: 'visible' });
    await submitAuthForm(page, erin, 'Create account');
    await waitForFolder(app);
    await page.locator('#security-view[data-mfa="off"]').waitFor();
    // Erin turns on an authenticator app from her phone: this tab still believes she has none.
    phone = await otherDevice(erin, 'phone');
    const phoneMfa = new TvmMfa(phone);
    erin.secret = (await phoneMfa.startTotp({ currentPassword: erin.password })).secret;
    erin.recoveryCodes = await phoneMfa.confirmTotp(await erinsNextCode());

    await page.getByRole('button', { name: 'Show my sessions' }).click();
    await page.locator('#session-list li').nth(1).waitFor();
    await page.getByRole('button', { name: /^End the session of phone/ }).click();
    await confirmStepUp(erin.password, 'End session');
    // Not "wrong password", and not stuck on the password: the message asks for the code and the form takes one.
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#error').textContent()).toBe(
      'Two-step verification is on for this account, so your password alone is not enough here. Confirm with a code from your authenticator app or a recovery code.',
    );
    expect(await page.locator('#step-up-password').isVisible()).toBe(false);
    await page.locator('#security-view[data-mfa="on"]').waitFor();
    await expect(phone.token()).resolves.toBeDefined();

    await page.getByLabel('Confirmation code').fill(await erinsNextCode());
    await page.getByRole('button', { name: 'End session', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'Ended the session of phone.' }).waitFor();
    await expect(phone.token()).rejects.toBeInstanceOf(LoginRequiredError);
    expect(await page.locator('#session-list li').count()).toBe(1);
  }, 60_000);

  it('asks an account with a factor for a code in the step-up and the password form, with no serious accessibility violations at 1280 and 390 px', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    expect(await page.getByLabel('Confirmation code').isVisible()).toBe(true);
    expect(await page.locator('#step-up-password').isVisible()).toBe(false);
    expect(await page.getByLabel('Two-step code').isVisible()).toBe(true);
    // An empty code is caught in the page, before any request could count as a failure.
    await page.getByRole('button', { name: 'Delete my account', exact: true }).click();
    await page
      .locator('#error:not([hidden])')
      .filter({ hasText: 'Enter a code from your authenticator app or a recovery code.' })
      .waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    expect(await page.locator('#step-up-form').isVisible()).toBe(false);
  });

  it("changes erin's password with the old one and a code: without the code nothing is sent; the new password then needs her code to log in", async () => {
    const page = app.page;
    const newPassword = 'erin changed it with her app';
    await page.getByLabel('Old password').fill(erin.password);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    const passwordRequests: string[] = [];
    const listener = (request: { url(): string }) => {
      if (request.url().endsWith('/password')) passwordRequests.push(request.url());
    };
    page.on('request', listener);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page
      .locator('#error:not([hidden])')
      .filter({ hasText: 'Enter a code from your authenticator app or a recovery code.' })
      .waitFor();
    page.off('request', listener);
    expect(passwordRequests).toEqual([]);

    await page.getByLabel('Two-step code').fill(await erinsNextCode());
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#status').filter({ hasText: 'Password changed.' }).waitFor();
    await page.getByRole('button', { name: 'Refresh', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'File list updated.' }).waitFor();

    const check = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore() });
    await expect(check.login(erin.username, erin.password)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(check.login(erin.username, newPassword)).rejects.toBeInstanceOf(SecondFactorRequiredError);
    erin.password = newPassword;
  }, 60_000);

  it('ends all other sessions with one-time codes: each ends one session, and the page says so rather than spending a code twice', async () => {
    const page = app.page;
    const devices: TvmClient[] = [];
    for (const [index, device] of ['tablet', 'laptop'].entries()) {
      const client = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore(), device });
      const challenge = await client.login(erin.username, erin.password).then(
        () => undefined,
        (error: unknown) => (error instanceof SecondFactorRequiredError ? error.challenge : undefined),
      );
      await new TvmMfa(client).completeLogin(challenge!, { recoveryCode: erin.recoveryCodes[index]! });
      devices.push(client);
    }
    await page.getByRole('button', { name: 'Refresh the list' }).click();
    await page.locator('#session-list li').nth(2).waitFor();
    await page.getByRole('button', { name: 'End all other sessions' }).click();
    await page.getByLabel('Confirmation code').fill(erin.recoveryCodes[2]!);
    await page.getByRole('button', { name: 'End other sessions', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'Ended 1 of 2 other sessions.' }).waitFor();
    expect(await page.locator('#session-list li').count()).toBe(2);
    expect(await page.locator('#step-up-form').isVisible()).toBe(true);
    await page.getByLabel('Confirmation code').fill(erin.recoveryCodes[3]!);
    await page.getByRole('button', { name: 'End other sessions', exact: true }).click();
    await page.locator('#status').filter({ hasText: 'Ended 1 other session.' }).waitFor();
    for (const device of devices) await expect(device.token()).rejects.toBeInstanceOf(LoginRequiredError);
    // The recovery codes the step-ups spent are counted on the security card.
    await page.locator('#security-state').filter({ hasText: ' 6 recovery codes left' }).waitFor();
  });

  it("deletes erin's account with a recovery code as the step-up: the body is the shared step-up body, and the server deletes her", async () => {
    const sent = await requestsTo('/account', async () => {
      app.page.once('dialog', (dialog) => void dialog.accept());
      await app.page.getByRole('button', { name: 'Delete my account…' }).click();
      await app.page.getByLabel('Confirmation code').fill(erin.recoveryCodes[4]!);
      await app.page.getByRole('button', { name: 'Delete my account', exact: true }).click();
      await app.page.locator('#auth-view').waitFor({ state: 'visible' });
    });
    expect(sent).toEqual([{ method: 'DELETE', body: { recoveryCode: erin.recoveryCodes[4] }, status: 202 }]);
    expect(await app.page.locator('#status').textContent()).toMatch(/^Your account is being deleted\./);
    expect(await pageText()).not.toContain('erin');
    await expectDeletedOnServer(erin);
  });

  it('the security card too: adding a passkey with the password alone, after an app was set up elsewhere, asks for the code and switches its form to it', async () => {
    const page = app.page;
    const frank = { username: 'frank', password: 'frank sets it up on his phone' };
    await submitAuthForm(page, frank, 'Create account');
    await waitForFolder(app);
    await page.locator('#security-view[data-mfa="off"]').waitFor();
    const phone = await otherDevice(frank, 'phone');
    const phoneMfa = new TvmMfa(phone);
    const secret = (await phoneMfa.startTotp({ currentPassword: frank.password })).secret;
    await phoneMfa.confirmTotp(totpCode(secret, Date.now()));

    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByLabel('Current password').fill(frank.password);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#error').textContent()).toBe(
      'Two-step verification is on for this account, so your password alone is not enough here. Confirm with a code from your authenticator app or a recovery code.',
    );
    expect(await page.locator('label[for="totp-current-password"]').textContent()).toBe(
      'Code from your authenticator app, or a recovery code',
    );
    expect(await page.locator('#totp-current-password').getAttribute('type')).toBe('text');
    await page.locator('#security-view[data-mfa="on"]').waitFor();
  });
});
