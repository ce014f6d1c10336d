/**
 * The Personal File Store web app in a real browser (Debian's Chromium, driven by
 * playwright-core) against the local sandbox, whose S3 gate checks SigV4 and the IAM policies.
 *
 * Without Chromium this file FAILS: a skipped browser test would let CI go green untested.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { fromTvm, MemorySessionStore, TvmClient, type StoredSession } from '@serverless-tvm/client';
import { runCli } from '../../admin/cli';
import {
  alice,
  entryNames,
  screenshot,
  sidewaysOverflow,
  seriousAccessibilityViolations,
  SESSION_KEY,
  startApp,
  submitAuthForm,
  waitForFolder,
  type AppUnderTest,
} from './file-store-helpers';

const bob = { username: 'bob', password: 'tr0ub4dor&3-but-longer' };
// Every byte value, then random bytes: a text-mangling or truncating path would show.
const fileBytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300 * 1024)]);
const fileName = 'holiday photos.bin';

let app: AppUnderTest;

beforeAll(async () => {
  app = await startApp();
}, 60_000);

afterAll(async () => {
  await app?.close();
});

async function logOut(): Promise<void> {
  await app.page.getByRole('button', { name: 'Log out' }).click();
  await app.page.locator('#auth-view').waitFor({ state: 'visible' });
}

/** Chooses files with the picker, as a person would, and waits until each has uploaded or failed. */
async function chooseFiles(files: Array<{ name: string; buffer: Buffer }>): Promise<void> {
  await app.page
    .getByLabel('Choose files to upload')
    .setInputFiles(files.map((file) => ({ ...file, mimeType: 'application/octet-stream' })));
}

async function uploadState(name: string): Promise<string | null> {
  return app.page.locator(`#upload-list li[data-name="${name}"]`).last().getAttribute('data-state');
}

async function waitForUpload(name: string, state: 'done' | 'failed' | 'skipped' | 'cancelled'): Promise<void> {
  await app.page.locator(`#upload-list li[data-name="${name}"][data-state="${state}"]`).last().waitFor();
}

describe('Personal File Store in Chromium', () => {
  it('has no serious accessibility violations on the login screen, and alice registers into an empty folder that says when her access expires', async () => {
    const page = app.page;
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'web-app-login.png');

    await submitAuthForm(page, alice, 'Create account');
    await waitForFolder(app);

    expect(await page.locator('#account-name').textContent()).toBe(alice.username);
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);
    expect(await page.locator('#credentials-expiry').textContent()).toMatch(/^Access until .+ \(\d+ min left\)/);
    const expiration = Date.parse((await page.locator('#credentials-expiry').getAttribute('data-expiration')) ?? '');
    expect(expiration).toBeGreaterThan(Date.now() + 5 * 60_000);
  });

  it('alice uploads a file with the file picker and sees it listed with its size, and the overall progress finished', async () => {
    await chooseFiles([{ name: fileName, buffer: fileBytes }]);
    await waitForUpload(fileName, 'done');
    await app.page.locator('#entries li.file[data-name="holiday photos.bin"]').waitFor();

    expect(await entryNames(app.page)).toEqual([fileName]);
    expect(await app.page.locator('#entries .entry-meta').first().textContent()).toMatch(/^300 KB · /);
    expect(await app.page.locator('#overall-text').textContent()).toBe('All uploads finished: 300 KB.');
    expect(await app.page.locator('#overall-progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(1);
  });

  it('alice downloads the file byte for byte', async () => {
    const [download] = await Promise.all([
      app.page.waitForEvent('download'),
      app.page.getByRole('button', { name: `Download ${fileName}` }).click(),
    ]);

    expect(download.suggestedFilename()).toBe(fileName);
    const downloaded = await readFile(await download.path());
    expect(downloaded.equals(fileBytes)).toBe(true);
  });

  it('alice creates a folder, opens it, drops a file into it, and goes back up', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('photos');
    await page.getByRole('button', { name: 'Create folder' }).click();
    await page.locator('#status').filter({ hasText: 'Created folder photos.' }).waitFor();
    expect(await entryNames(page)).toEqual(['photos/', fileName]);

    await page.getByRole('button', { name: 'Open folder photos' }).click();
    await page.locator('#breadcrumbs [aria-current]').filter({ hasText: 'photos' }).waitFor();
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);

    // A drop as the browser delivers it: a DataTransfer holding a File.
    await page.locator('#drop-zone').evaluate((zone) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['a cat, in bytes'], 'cat.txt', { type: 'text/plain' }));
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await waitForUpload('photos/cat.txt', 'done');
    await page.locator('#entries li.file[data-name="photos/cat.txt"]').waitFor();
    expect(await entryNames(page)).toEqual(['cat.txt']);

    await page.getByRole('button', { name: 'Up one folder' }).click();
    await page.locator('#breadcrumbs [aria-current]').filter({ hasText: 'My files' }).waitFor();
    expect(await entryNames(page)).toEqual(['photos/', fileName]);
  });

  it('asks before replacing a file of the same name: keeping it sends nothing, replacing it uploads the new one', async () => {
    const page = app.page;
    const replacement = Buffer.from('the new holiday photos');
    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await chooseFiles([{ name: fileName, buffer: replacement }]);
    await waitForUpload(fileName, 'skipped');
    expect(questions).toEqual([`"${fileName}" already exists in this folder. Replace it?`]);
    expect(await page.locator('#entries li.file[data-name="holiday photos.bin"] .entry-meta').textContent()).toMatch(
      /^300 KB/,
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await chooseFiles([{ name: fileName, buffer: replacement }]);
    await waitForUpload(fileName, 'done');
    await page
      .locator('#entries li.file[data-name="holiday photos.bin"] .entry-meta')
      .filter({ hasText: /^22 B/ })
      .waitFor();
    expect(await uploadState(fileName)).toBe('done');
  });

  it('refuses at once, with the limit, a file whose name is too long for S3', async () => {
    const longName = `${'n'.repeat(1100)}.txt`;
    await chooseFiles([{ name: longName, buffer: Buffer.from('x') }]);
    await waitForUpload(longName, 'failed');

    expect(await app.page.locator('#error').textContent()).toContain('A name can be at most 1018 bytes long');
    expect(await app.page.locator(`#upload-list li[data-name="${longName}"] .upload-text`).textContent()).toContain(
      'at most 1018 bytes',
    );
  });

  it('at a 390 px phone width nothing scrolls sideways, long names wrap, and axe finds no serious violation in the files view', async () => {
    const page = app.page;
    await chooseFiles([
      {
        name: 'a-very-long-file-name-without-any-spaces-from-a-phone-camera-20261202-084512-000001.jpg',
        buffer: Buffer.from('jpeg'),
      },
    ]);
    await waitForUpload(
      'a-very-long-file-name-without-any-spaces-from-a-phone-camera-20261202-084512-000001.jpg',
      'done',
    );
    await page.setViewportSize({ width: 390, height: 844 });

    expect(await sidewaysOverflow(page)).toEqual([]);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'web-app-phone.png');
    await page.setViewportSize({ width: 1000, height: 720 });
    await screenshot(page, 'web-app.png');
  });

  it('shows an offline banner while the browser is offline, and hides it when the network is back', async () => {
    await app.context.setOffline(true);
    await app.page.locator('#offline-banner').waitFor({ state: 'visible' });
    expect(await app.page.locator('#offline-banner').textContent()).toContain('You are offline');
    await screenshot(app.page, 'web-app-offline.png');

    await app.context.setOffline(false);
    await app.page.locator('#offline-banner').waitFor({ state: 'hidden' });
    expect(await app.page.locator('#account').isVisible()).toBe(true);
  });

  it('a reload keeps alice logged in, with her files, through the stored session', async () => {
    await app.page.reload();
    await app.page.locator('#files-view').waitFor({ state: 'visible' });
    await app.page.locator('#entries li').first().waitFor();

    expect(await entryNames(app.page)).toContain(fileName);
  });

  it("bob, a second user, sees an empty folder, and his credentials cannot list or fetch alice's key", async () => {
    const page = app.page;
    await logOut();
    expect(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).toBeNull();

    await submitAuthForm(page, bob, 'Create account');
    await waitForFolder(app);
    expect(await page.locator('#account-name').textContent()).toBe(bob.username);
    expect(await page.locator('#empty-folder').isVisible()).toBe(true);

    // Bob's own browser session, used from outside the page with the client SDK.
    const stored = JSON.parse(
      (await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)) ?? 'null',
    ) as StoredSession;
    const tvm = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore(stored) });
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
      await expect(
        s3.send(new GetObjectCommand({ Bucket: storage.bucket, Key: `${alice.username}/${fileName}` })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      await expect(
        s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: `${alice.username}/` })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    } finally {
      s3.destroy();
    }
  });

  it('a wrong password is explained in plain words', async () => {
    await logOut();
    await submitAuthForm(app.page, { username: alice.username, password: 'not her password' }, 'Log in');

    await app.page.locator('#error').filter({ hasText: "That username and password don't match" }).waitFor();
    expect(await app.page.locator('#files-view').isVisible()).toBe(false);
  });

  it('alice logs in with the keyboard alone and deletes a file', async () => {
    const page = app.page;
    await page.getByLabel('Username').fill('');
    await page.getByLabel('Username').focus();
    await page.keyboard.type(alice.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Enter');
    await waitForFolder(app);
    expect(await entryNames(page)).toContain(fileName);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Delete ${fileName}` }).focus();
    await page.keyboard.press('Enter');
    await page
      .locator('#status')
      .filter({ hasText: `Deleted ${fileName}.` })
      .waitFor();
    expect(await entryNames(page)).not.toContain(fileName);
  });

  it('after the operator cuts off alice\'s credentials, her next action ends the session: "Your session has ended; log in again" on the login screen', async () => {
    // Token issue times have one-second resolution; let the revocation instant be later.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const previous = process.env.TVM_DATA_DIR;
    process.env.TVM_DATA_DIR = app.dataDir;
    try {
      expect(
        await runCli(['--local', 'revoke-credentials', alice.username], { out: () => undefined, err: () => undefined }),
      ).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.TVM_DATA_DIR;
      else process.env.TVM_DATA_DIR = previous;
    }

    await app.page.getByRole('button', { name: 'Refresh' }).click();
    await app.page.locator('#auth-view').waitFor({ state: 'visible' });
    expect(await app.page.locator('#error').textContent()).toBe('Your session has ended; log in again.');
    expect(await app.page.locator('#account').isVisible()).toBe(false);
    await screenshot(app.page, 'web-app-session-ended.png');
  });
});
