/**
 * The Personal File Store web app in a real browser (Debian's Chromium, driven by
 * playwright-core) against the local sandbox, whose S3 gate checks SigV4 and the IAM policies.
 *
 * Without Chromium this file FAILS: a skipped browser test would let CI go green untested.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { fromTvm, MemorySessionStore, TvmClient, type StoredSession } from '@serverless-tvm/client';
import type { Sandbox } from '../../local/sandbox';
import { startWebApp, type WebAppFixture } from './web-app-fixture';

const ARTIFACTS = resolve(__dirname, '../../test-artifacts');
const SESSION_KEY = 'personal-file-store.session';

// Every run starts a sandbox on a fresh data folder, so plain names never collide.
const alice = { username: 'alice', password: 'correct horse battery staple' };
const bob = { username: 'bob', password: 'tr0ub4dor&3-but-longer' };
// Every byte value, then random bytes: a text-mangling or truncating path would show.
const fileBytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300 * 1024)]);
const fileName = 'holiday photos.bin';

let fixture: WebAppFixture | undefined;
let sandbox: Sandbox | undefined;
let page: Page;
/** What the page logged as errors, shown when a step fails. */
const pageErrors: string[] = [];

beforeAll(async () => {
  fixture = await startWebApp({ pageErrors, viewport: { width: 1200, height: 700 }, acceptDownloads: true });
  ({ sandbox, page } = fixture);
}, 60_000);

afterAll(async () => {
  await fixture?.close();
});

/** Submits the login form as a person would: fields by their labels, the button by its name. */
async function submitAuthForm(user: { username: string; password: string }, button: 'Log in' | 'Create account'): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: button }).click();
}

/** Waits for the folder view after a login, or fails with what the page told the person. */
async function waitForFolder(): Promise<void> {
  const error = page.locator('#error:not([hidden])');
  await page.locator('#status').filter({ hasText: /Welcome/ }).or(error).waitFor();
  if (await error.isVisible()) {
    throw new Error(`The app showed an error: ${await error.textContent()}\nConsole errors:\n${pageErrors.join('\n')}`);
  }
  expect(await page.locator('#files-view').isVisible()).toBe(true);
}

async function fileRowNames(): Promise<string[]> {
  return page.locator('#file-rows td.name').allTextContents();
}

async function logOut(): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#auth-view').waitFor({ state: 'visible' });
}

describe('Personal File Store in Chromium', () => {
  it('serves the app at / and registers alice, who starts with an empty folder and sees when her access expires', async () => {
    await page.goto(`${sandbox?.apiUrl}/`);
    await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });

    await submitAuthForm(alice, 'Create account');
    await waitForFolder();

    expect(await page.locator('#account-name').textContent()).toBe(alice.username);
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);
    expect(await page.locator('#credentials-expiry').textContent()).toMatch(/^Access until .+ \(\d+ min left\)/);
    const expiration = Date.parse((await page.locator('#credentials-expiry').getAttribute('data-expiration')) ?? '');
    expect(expiration).toBeGreaterThan(Date.now() + 5 * 60_000);
  });

  it('alice uploads a file and sees it listed', async () => {
    await page.getByLabel('Add files to your folder').setInputFiles({ name: fileName, mimeType: 'application/octet-stream', buffer: fileBytes });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#status').filter({ hasText: `Uploaded ${fileName}.` }).waitFor();

    expect(await fileRowNames()).toEqual([fileName]);
    expect(await page.locator('#file-rows td.number').first().textContent()).toBe('300 KB');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-app.png') });
  });

  it('alice downloads the file byte for byte', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${fileName}` }).click()]);

    expect(download.suggestedFilename()).toBe(fileName);
    const downloaded = await readFile(await download.path());
    expect(downloaded.length).toBe(fileBytes.length);
    expect(downloaded.equals(fileBytes)).toBe(true);
  });

  it('a reload keeps alice logged in, with her file, through the stored session', async () => {
    await page.reload();
    await page.locator('#files-view').waitFor({ state: 'visible' });
    await page.locator('#file-rows tr').first().waitFor();

    expect(await fileRowNames()).toEqual([fileName]);
  });

  it('bob, a second user, sees an empty folder, and his credentials cannot list or fetch alice\'s key', async () => {
    await logOut();
    expect(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).toBeNull();

    await submitAuthForm(bob, 'Create account');
    await waitForFolder();

    expect(await page.locator('#account-name').textContent()).toBe(bob.username);
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);
    expect(await fileRowNames()).toEqual([]);

    // Bob's own browser session, used from outside the page with the client SDK.
    const stored = JSON.parse((await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)) ?? 'null') as StoredSession;
    const tvm = new TvmClient({ baseUrl: sandbox?.apiUrl ?? '', sessionStore: new MemorySessionStore(stored) });
    const credentials = fromTvm(tvm);
    const storage = await credentials.storage();
    expect(storage.prefix).toBe(`${bob.username}/`);
    const s3 = new S3Client({
      credentials,
      region: storage.region,
      endpoint: storage.endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    try {
      await expect(s3.send(new GetObjectCommand({ Bucket: storage.bucket, Key: `${alice.username}/${fileName}` }))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
      await expect(s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: `${alice.username}/` }))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
      const own = await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: storage.prefix }));
      expect(own.Contents ?? []).toEqual([]);
    } finally {
      s3.destroy();
    }
  });

  it('a wrong password is explained in plain words', async () => {
    await logOut();

    await submitAuthForm({ username: alice.username, password: 'not her password' }, 'Log in');

    await page.locator('#error').filter({ hasText: "That username and password don't match" }).waitFor();
    expect(await page.locator('#files-view').isVisible()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'web-app-login-error.png') });
  });

  it('alice logs in with the keyboard alone, deletes her file and sees her folder empty', async () => {
    await page.getByLabel('Username').fill('');
    await page.getByLabel('Username').focus();
    await page.keyboard.type(alice.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Enter');
    await waitForFolder();
    expect(await fileRowNames()).toEqual([fileName]);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Delete ${fileName}` }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#status').filter({ hasText: `Deleted ${fileName}.` }).waitFor();

    expect(await fileRowNames()).toEqual([]);
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);
  });
});
