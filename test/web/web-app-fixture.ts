/**
 * What every browser test starts: the sandbox serving the web app on a fresh data folder, and
 * Debian's Chromium (playwright-core) with one page. Without Chromium this FAILS rather than
 * skips: a skipped browser test would let CI go green untested.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { createWebAppHandler } from '../../web/serve';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A running sandbox with the web app, and a browser page. */
export interface WebAppFixture {
  readonly sandbox: Sandbox;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Stops the browser and the sandbox and removes their folders. */
  close(): Promise<void>;
}

/** Starts the sandbox and Chromium; the page's console errors and uncaught errors go into `pageErrors`. */
export async function startWebApp(options: {
  readonly pageErrors: string[];
  readonly viewport: { width: number; height: number };
  readonly acceptDownloads?: boolean;
}): Promise<WebAppFixture> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install it with "apt-get install -y chromium" ` +
        '(.ci/run does this) or set CHROMIUM_PATH. The browser test fails rather than skips without it.',
    );
  }
  const workDir = await mkdtemp(join(tmpdir(), 'tvm-browser-'));
  let sandbox: Sandbox | undefined;
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await sandbox?.stop();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    sandbox = await startSandbox({
      port: 0,
      s3Port: 0,
      dataDir: join(workDir, 'data'),
      bcryptCost: 10,
      log: false,
      staticHandler: await createWebAppHandler({ oidcProviders: () => sandbox?.oidcProviders }),
    });
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: options.acceptDownloads ?? false,
      viewport: options.viewport,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    page.on('console', (message) => {
      if (message.type() === 'error') options.pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => options.pageErrors.push(error.message));
    return { sandbox, context, page, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Fills the login form as a person would (fields by their labels) and presses `button`. */
export async function submitAuthForm(
  page: Page,
  user: { readonly username: string; readonly password: string },
  button: 'Log in' | 'Create account',
): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: button }).click();
}

/** Waits for the "Welcome" of a login, or fails with what the page told the person. */
export async function waitForWelcome(page: Page, pageErrors: readonly string[]): Promise<void> {
  const error = page.locator('#error:not([hidden])');
  await page
    .locator('#status')
    .filter({ hasText: /Welcome/ })
    .or(error)
    .waitFor();
  if (await error.isVisible())
    throw new Error(`The app showed an error: ${await error.textContent()}\nConsole errors:\n${pageErrors.join('\n')}`);
}

/** Logs out with the button and waits for the login form. */
export async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#auth-view').waitFor({ state: 'visible' });
}
