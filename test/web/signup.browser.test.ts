/**
 * Sign-up control in Chromium against the sandbox: under `invite` the page shows the invite
 * field, refuses "Create account" without one (and says why), creates the account with an
 * operator's invite, and refuses the same invite again; under `closed` it offers no sign-up,
 * the API refuses one anyway, and an account the operator made with `tvm-admin users create`
 * sets its password with its reset code and logs in.
 */
import { logOutOf, operator, startApp, submitAuthForm, waitForFolder, type AppUnderTest } from './file-store-helpers';

const erin = { username: 'erin', password: 'correct horse battery staple' };
const frank = { username: 'frank', password: 'tr0ub4dor&3-but-longer' };

describe('registration by invite', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await startApp({ width: 1000, height: 720 }, { REGISTRATION: 'invite' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('shows the invite field, refuses a sign-up without a valid invite, creates the account with one, and refuses it again', async () => {
    const { page } = app;
    await page.locator('#auth-view').getByLabel('Invite code').waitFor({ state: 'visible' });
    await submitAuthForm(page, erin, 'Create account');
    await page.locator('#error').filter({ hasText: 'invite code' }).waitFor();

    await page.locator('#auth-view').getByLabel('Invite code').fill('AAAAAAAAAAAAAAAAAAAAAA');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#error').filter({ hasText: 'Sign-up here needs an invite' }).waitFor();
    expect(await page.locator('#auth-view').getByLabel('Invite code').getAttribute('aria-invalid')).toBe('true');

    const made = await operator(app, ['--json', 'invites', 'create']);
    expect(made.code).toBe(0);
    const invite = (JSON.parse(made.out.slice(made.out.indexOf('{'))) as { codes: string[] }).codes[0]!;
    // Pasted with a stray space, as codes often are.
    await page.locator('#auth-view').getByLabel('Invite code').fill(` ${invite} `);
    await page.getByRole('button', { name: 'Create account' }).click();
    await waitForFolder(app);
    await logOutOf(app);
    expect(await page.locator('#auth-view').getByLabel('Invite code').inputValue()).toBe('');

    await submitAuthForm(page, frank, 'Create account');
    await page.locator('#auth-view').getByLabel('Invite code').fill(invite);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#error').filter({ hasText: 'Sign-up here needs an invite' }).waitFor();
    const listed = await operator(app, ['invites', 'list']);
    expect(listed.out).toMatch(/used\s+\S+\s+\S+\s+erin/);
    // The page logs each refusal it showed (web/feedback.ts); nothing else went wrong.
    expect(app.pageErrors.filter((text) => !text.includes('403') && !text.startsWith('InviteRequiredError'))).toEqual(
      [],
    );
  }, 60_000);
});

describe('registration closed', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await startApp({ width: 1000, height: 720 }, { REGISTRATION: 'closed' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('offers no sign-up, the API refuses one anyway, and an operator-made account sets its password and logs in', async () => {
    const { page } = app;
    await page.locator('#closed-hint').waitFor({ state: 'visible' });
    expect(await page.getByRole('button', { name: 'Create account' }).count()).toBe(0);
    expect(await page.locator('#auth-view').getByLabel('Invite code').isVisible()).toBe(false);
    expect(await page.locator('#auth-title').textContent()).toBe('Log in');
    const refused = await page.evaluate(async (body) => {
      const response = await fetch('/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    }, erin);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'registration_closed' } } });

    const created = await operator(app, ['--json', 'users', 'create', frank.username]);
    expect(created.code).toBe(0);
    const { resetCode } = JSON.parse(created.out.slice(created.out.indexOf('{'))) as { resetCode: string };
    await page.getByLabel('Username').fill(frank.username);
    await page.getByRole('button', { name: 'I have a password reset code' }).click();
    await page.getByLabel('Reset code').fill(resetCode);
    await page.getByLabel('Choose a new password').fill(frank.password);
    await page.getByRole('button', { name: 'Set new password and log in' }).click();
    await page.locator('#files-view').waitFor({ state: 'visible' });
    await logOutOf(app);
    await submitAuthForm(page, frank, 'Log in');
    await waitForFolder(app);
  }, 60_000);
});
