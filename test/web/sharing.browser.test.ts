/**
 * Sharing in Chromium, against the sandbox: alice shares a folder with bob through the Share
 * form, bob finds it under Shared with me and downloads a file byte for byte with the share's
 * own credentials; a read-write share lets him upload; Copy link gives a URL that serves the
 * file (and nothing after Revoke); a revoke cuts off bob's open view and leaves his list; the card stays
 * axe-clean and does not scroll sideways at 390 px.
 */
import { readFile } from 'node:fs/promises';
import { MemorySessionStore, TvmClient, TvmShares } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';
import {
  alice,
  logOutOf,
  screenshot,
  seriousAccessibilityViolations,
  sidewaysOverflow,
  startApp,
  submitAuthForm,
  waitForFolder,
  type AppUnderTest,
} from './file-store-helpers';

const bob = { username: 'bob', password: 'bob also likes long passwords' };
const CAT = 'a photo of a cat, byte for byte \u00e9\u4e2d';

let app: AppUnderTest;
/** alice's own client in Node, as another app of hers: to put files and to check what bob wrote. */
let aliceOutside: TvmClient;

beforeAll(async () => {
  app = await startApp({ width: 1280, height: 900 });
  await new TvmClient({ baseUrl: app.sandbox.apiUrl }).register(bob.username, bob.password);
  await submitAuthForm(app.page, alice, 'Create account');
  await waitForFolder(app);
  aliceOutside = new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore() });
  await aliceOutside.login(alice.username, alice.password);
  const files = new TvmStorage({ client: aliceOutside });
  try {
    await files.upload('photos/cat.txt', CAT, { contentType: 'text/plain' }).done;
    await files.createFolder('drop');
  } finally {
    files.dispose();
  }
  await app.page.getByRole('button', { name: 'Refresh', exact: true }).click();
  await app.page.locator('#entries li.folder[data-name="photos/"]').waitFor();
}, 90_000);

afterAll(async () => {
  await app?.close();
});

async function status(text: string | RegExp): Promise<void> {
  const error = app.page.locator('#error:not([hidden])');
  await app.page.locator('#status').filter({ hasText: text }).or(error).waitFor();
  if (await error.isVisible())
    throw new Error(`The app showed an error: ${await error.textContent()}\n${app.pageErrors.join('\n')}`);
}

async function logIn(user: { username: string; password: string }): Promise<void> {
  await submitAuthForm(app.page, user, 'Log in');
  await waitForFolder(app);
}

async function share(
  folder: string,
  grantee: string,
  access: 'View and download' | 'View, download, upload and delete',
) {
  const page = app.page;
  await page.getByRole('button', { name: `Share folder ${folder}`, exact: true }).click();
  await page.getByLabel(`Share ${folder}/ with (username)`).fill(grantee);
  await page.getByLabel(access, { exact: true }).check();
  await page.getByRole('button', { name: `Share ${folder}/ now` }).click();
  await status(`Shared ${folder}/ with ${grantee}`);
}

describe('sharing in the web app', () => {
  it('alice shares photos/ read-only and drop/ read-write with bob through the Share form; both are listed as hers', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'Share folder photos', exact: true }).click();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Cancel sharing photos/' }).click();

    await share('photos', 'bob', 'View and download');
    await share('drop', 'bob', 'View, download, upload and delete');
    await expect(page.locator('#given-list .entry-name').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['photos/ with bob', 'drop/ with bob']),
    );
  });

  it('refuses a share with a user who does not exist, saying so, and lists nothing new', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'Share folder photos', exact: true }).click();
    await page.getByLabel('Share photos/ with (username)').fill('nobody-here');
    await page.getByRole('button', { name: 'Share photos/ now' }).click();
    await page.locator('#error:not([hidden])').waitFor();
    await page.getByRole('button', { name: 'Cancel sharing photos/' }).click();
    await expect(page.locator('#given-list li').count()).resolves.toBe(2);
  });

  it('Copy link gives a URL that serves the file to anyone, and answers 404 once revoked', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'Open folder photos', exact: true }).click();
    await page.getByRole('button', { name: 'Copy link to cat.txt' }).click();
    await status(/link to cat\.txt/);
    const url = await page.getByRole('textbox', { name: 'Link to photos/cat.txt' }).inputValue();
    expect(url).toMatch(/\/l\/[A-Za-z0-9_-]{22,}$/);

    // No session, no cookie: a stranger's fetch, following the redirect to S3.
    const opened = await fetch(url);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toBe(CAT);

    await page.getByRole('button', { name: 'Revoke the link to photos/cat.txt' }).click();
    await status('The link to photos/cat.txt no longer works.');
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(404);
    await expect(page.locator('#link-list li').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Open My files, your top folder' }).click();
    await logOutOf(app);
  });

  it('bob finds both under Shared with me and downloads cat.txt byte for byte with the share', async () => {
    const page = app.page;
    await logIn(bob);
    await page.locator('#received-list li').nth(1).waitFor();
    await expect(page.locator('#received-list .entry-name').allTextContents()).resolves.toEqual(
      expect.arrayContaining(["alice's photos/", "alice's drop/"]),
    );

    await page.getByRole('button', { name: "Open alice's photos/" }).click();
    await status("Opened alice's photos/.");
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download shared file cat.txt' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('cat.txt');
    expect((await readFile(await download.path())).toString('utf8')).toBe(CAT);
    // Read-only: no upload or delete offered.
    await expect(page.locator('#shared-upload').isHidden()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Delete shared file cat.txt' }).count()).resolves.toBe(0);
  });

  it("bob uploads into the read-write share and deletes there; alice's own client sees both", async () => {
    const page = app.page;
    await page.getByRole('button', { name: "Open alice's drop/" }).click();
    await status("Opened alice's drop/.");
    await page.getByLabel('Upload to this shared folder').setInputFiles({
      name: 'from-bob.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello from bob'),
    });
    await status("Uploaded 1 file to alice's drop/.");
    await page.locator('#shared-entries li[data-name="from-bob.txt"]').waitFor();

    const files = new TvmStorage({ client: aliceOutside });
    try {
      expect(await (await files.download('drop/from-bob.txt')).body.transformToString()).toBe('hello from bob');

      // And deletes there, after saying what goes.
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Delete shared file from-bob.txt' }).click();
      await status('Deleted from-bob.txt.');
      expect(await files.stat('drop/from-bob.txt')).toBeUndefined();
    } finally {
      files.dispose();
    }
    // Put back, so the phone layout below shows a file in the open share.
    await page.getByLabel('Upload to this shared folder').setInputFiles({
      name: 'from-bob.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello again'),
    });
    await status("Uploaded 1 file to alice's drop/.");
  });

  it('at 390 px the sharing card and an open share do not scroll sideways, and axe finds nothing serious', async () => {
    const page = app.page;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.locator('#sharing-view').scrollIntoViewIfNeeded();
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      await screenshot(page, 'web-app-sharing-phone.png');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("alice's revoke cuts off bob's open view of photos/: his next download says the share has ended, and it leaves his list", async () => {
    const page = app.page;
    await page.getByRole('button', { name: "Open alice's photos/" }).click();
    await status("Opened alice's photos/.");
    const shares = new TvmShares(aliceOutside);
    const photos = (await shares.list()).given.find((entry) => entry.path === 'photos/');
    if (!photos) throw new Error('alice has no share of photos/');
    await shares.revoke(photos.id);

    // bob's page still holds the share's credentials. Once the cut-off is in force (at once when
    // the sandbox runs the cut-off worker on the revoke, else within its 2 s sweep), S3 refuses
    // them, the TVM has no credentials for the share any more, and the page says it has ended.
    const ended = page.locator('#error:not([hidden])').filter({ hasText: 'This share has ended' });
    for (let attempt = 0; attempt < 20 && !(await ended.isVisible()); attempt++) {
      await page.getByRole('button', { name: 'Download shared file cat.txt' }).click();
      await page.locator('#status').filter({ hasText: 'Downloaded cat.txt.' }).or(ended).waitFor();
      if (!(await ended.isVisible())) await page.waitForTimeout(500);
    }
    await expect(ended.isVisible()).resolves.toBe(true);
    await page.locator('#shared-folder').waitFor({ state: 'hidden' });
    await page.locator('#received-list li').filter({ hasText: "alice's photos/" }).waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Reload sharing' }).click();
    await status('Sharing updated.');
    await expect(page.locator('#received-list .entry-name').allTextContents()).resolves.toEqual(["alice's drop/"]);
    await logOutOf(app);
  });

  it('alice sees who used a share, stops sharing drop/ in the page, and bob has nothing shared after', async () => {
    const page = app.page;
    await logIn(alice);
    await page.locator('#given-list li').first().waitFor();
    await expect(page.locator('#given-list .entry-meta').first().textContent()).resolves.toContain('by bob');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Stop sharing drop/ with bob' }).click();
    await status('bob can no longer open drop/.');
    await expect(page.locator('#given-empty').isVisible()).resolves.toBe(true);
    await logOutOf(app);

    await logIn(bob);
    await page.locator('#received-empty').waitFor();
    await expect(page.locator('#received-list li').count()).resolves.toBe(0);
    await logOutOf(app);
  });

  it('alice shares one file until a chosen day; bob sees the end and downloads it from his list', async () => {
    const page = app.page;
    await logIn(alice);
    await page.getByRole('button', { name: 'Open folder photos', exact: true }).click();
    await page.getByRole('button', { name: 'Share cat.txt', exact: true }).click();
    await page.getByLabel('Share cat.txt with (username)').fill('bob');
    const lastDay = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Ends after (optional)').fill(lastDay);
    await page.getByRole('button', { name: 'Share cat.txt now' }).click();
    await status(/Shared cat\.txt with bob: they can view it, until /);
    const given = (await new TvmShares(aliceOutside).list()).given.find((entry) => entry.path === 'photos/cat.txt');
    // The end of the chosen day in the page's time zone: within a day of that date's noon UTC.
    expect(Math.abs(Date.parse(given?.expiresAt ?? '') - Date.parse(`${lastDay}T12:00:00Z`))).toBeLessThan(86_400_000);
    await page.getByRole('button', { name: 'Open My files, your top folder' }).click();
    await logOutOf(app);

    await logIn(bob);
    const entry = page.locator('#received-list li').filter({ hasText: "alice's photos/cat.txt" });
    await expect(entry.locator('.entry-meta').textContent()).resolves.toMatch(/can view · until /);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: "Download alice's photos/cat.txt" }).click(),
    ]);
    expect((await readFile(await download.path())).toString('utf8')).toBe(CAT);
    await expect(page.locator('#shared-folder').isHidden()).resolves.toBe(true);
  });
});
