/**
 * What the Personal File Store's browser tests share: a sandbox serving the app, Debian's
 * Chromium through playwright-core, an axe-core check, screenshots, and the person's actions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runCli } from '../../admin/cli';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { readRuntimeSettings } from '../../lambda/platform/config';
import { createWebAppHandler } from '../../web/serve';

export { submitAuthForm } from './web-app-fixture';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where screenshots go: docs/images with UPDATE_SCREENSHOTS=1 (for the docs), else test-artifacts/. */
const SCREENSHOTS = resolve(
  __dirname,
  process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/images' : '../../test-artifacts',
);

export const SESSION_KEY = 'personal-file-store.session';
/** One password for alice in every test and document. */
export const alice = { username: 'alice', password: 'correct horse battery staple' };

export interface AppUnderTest {
  readonly sandbox: Sandbox;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly dataDir: string;
  /** What the page logged as errors, shown when a step fails. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Starts a sandbox on a fresh data folder serving the app, and Chromium on its page. Fails (never skips) without Chromium.
 * `settings` are the functions' settings by variable (REGISTRATION, DEFAULT_QUOTA_BYTES, ...), for this sandbox only;
 * the page is served with the same `registration`.
 */
export async function startApp(
  viewport = { width: 1000, height: 720 },
  settings: Readonly<Record<string, string>> = {},
): Promise<AppUnderTest> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install it with "apt-get install -y chromium" ` +
        '(the test command does this) or set CHROMIUM_PATH. The browser test fails rather than skips without it.',
    );
  }
  const workDir = await mkdtemp(join(tmpdir(), 'tvm-browser-'));
  const dataDir = join(workDir, 'data');
  // The sandbox gives its functions this process's environment as it starts: set, then restored.
  const previous = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      port: 0,
      s3Port: 0,
      dataDir,
      bcryptCost: 10,
      log: false,
      // The page offers the sandbox's sign-in providers (its dev IdP), known once it has started.
      staticHandler: await createWebAppHandler({
        oidcProviders: () => sandbox.oidcProviders,
        registration: readRuntimeSettings(process.env).registration,
      }),
    });
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport,
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
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${sandbox.apiUrl}/`);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  return {
    sandbox,
    context,
    page,
    dataDir,
    pageErrors,
    close: async () => {
      await context.close();
      await sandbox.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Waits for the folder view after a login, or fails with what the page told the person. */
export async function waitForFolder(app: AppUnderTest): Promise<void> {
  const error = app.page.locator('#error:not([hidden])');
  await app.page
    .locator('#status')
    .filter({ hasText: /Welcome/ })
    .or(error)
    .waitFor();
  if (await error.isVisible()) {
    throw new Error(
      `The app showed an error: ${await error.textContent()}\nConsole errors:\n${app.pageErrors.join('\n')}`,
    );
  }
}

/** The names shown in the folder, folders first (`photos/`), as a person reads them. */
export async function entryNames(page: Page): Promise<string[]> {
  return page.locator('#entries .entry-name').allTextContents();
}

/** axe-core's serious and critical violations on the page as it is now (rule id and targets). */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP (no inline scripts) does not govern.
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            context: Document,
            options: object,
          ) => Promise<{ violations: Array<{ id: string; impact?: string; nodes: Array<{ target: unknown[] }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? '',
      targets: violation.nodes.map((node) => JSON.stringify(node.target)),
    }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.targets.join(', ')}`);
}

/** The elements that stick out of the viewport sideways (so the page would scroll), by tag, id and class. */
export async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    return [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((node) => node.getBoundingClientRect().right > width + 0.5)
      .map((node) => `${node.tagName.toLowerCase()}#${node.id}.${node.className}`);
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name) });
}

/** Runs `tvm-admin --local <args>` against the app's sandbox, as an operator would; resolves with its exit code and output. */
export async function operator(app: AppUnderTest, args: readonly string[]): Promise<{ code: number; out: string }> {
  const previous = process.env.TVM_DATA_DIR;
  process.env.TVM_DATA_DIR = app.dataDir;
  const lines: string[] = [];
  try {
    const code = await runCli(['--local', ...args], {
      out: (line: string) => lines.push(line),
      err: (line: string) => lines.push(line),
    });
    return { code, out: lines.join('\n') };
  } finally {
    if (previous === undefined) delete process.env.TVM_DATA_DIR;
    else process.env.TVM_DATA_DIR = previous;
  }
}

/** Logs out with the button and waits for the login form. */
export async function logOutOf(app: AppUnderTest): Promise<void> {
  await app.page.getByRole('button', { name: 'Log out' }).click();
  await app.page.locator('#auth-view').waitFor({ state: 'visible' });
}
