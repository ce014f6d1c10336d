/**
 * Files in Chromium beyond upload and download: rename and move (copy, then delete, inside
 * one's own folder), deleting a folder with everything under it, the upload list per folder
 * that clears and stays short on a 390 px phone, progress within a 7 MiB part on a slow
 * uplink, and logout asking before it cancels uploads in progress.
 */
import type { CDPSession } from 'playwright-core';
import { MemorySessionStore, TvmClient, type StoredSession } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';
import {
  alice,
  entryNames,
  logOutOf,
  screenshot,
  seriousAccessibilityViolations,
  SESSION_KEY,
  sidewaysOverflow,
  startApp,
  submitAuthForm,
  waitForFolder,
  type AppUnderTest,
} from './file-store-helpers';

const MiB = 1024 * 1024;

let app: AppUnderTest;
let cdp: CDPSession;

beforeAll(async () => {
  app = await startApp({ width: 1280, height: 900 });
  cdp = await app.context.newCDPSession(app.page);
  await cdp.send('Network.enable');
  await submitAuthForm(app.page, alice, 'Create account');
  await waitForFolder(app);
}, 60_000);

afterAll(async () => {
  await app?.close();
});

/** Alice's files seen from outside the page, with her own session, as another app of hers would. */
async function alicesStorage(): Promise<TvmStorage> {
  const stored = JSON.parse(
    (await app.page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)) ?? 'null',
  ) as StoredSession;
  return new TvmStorage({
    client: new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore(stored) }),
  });
}

async function choose(files: Array<{ name: string; body: string | Buffer }>): Promise<void> {
  await app.page
    .getByLabel('Choose files to upload')
    .setInputFiles(
      files.map((file) => ({ name: file.name, mimeType: 'application/octet-stream', buffer: Buffer.from(file.body) })),
    );
}

async function uploaded(name: string): Promise<void> {
  await app.page.locator(`#upload-list li[data-name="${name}"][data-state="done"]`).waitFor();
}

async function openFolder(name: string): Promise<void> {
  await app.page.getByRole('button', { name: `Open folder ${name}`, exact: true }).click();
  await app.page.locator('#breadcrumbs [aria-current]').filter({ hasText: name }).waitFor();
}

async function newFolder(name: string): Promise<void> {
  await app.page.getByRole('button', { name: 'New folder' }).click();
  await app.page.getByLabel('Folder name').fill(name);
  await app.page.getByRole('button', { name: 'Create folder' }).click();
  await app.page
    .locator('#status')
    .filter({ hasText: `Created folder ${name}.` })
    .waitFor();
}

/** Slows the page's uplink (CDP network emulation), bytes per second; undefined lifts it. */
async function uplink(bytesPerSecond: number | undefined): Promise<void> {
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond ?? -1,
  });
}

describe('rename, move and delete a folder', () => {
  it('renames a file in place and moves it into a folder, its bytes intact and the old name gone', async () => {
    const page = app.page;
    await choose([{ name: 'draft.txt', body: 'the first draft' }]);
    await uploaded('draft.txt');
    await page.locator('#entries li.file[data-name="draft.txt"]').waitFor();

    await page.getByRole('button', { name: 'Rename or move draft.txt' }).click();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.getByLabel('New name for draft.txt').fill('final.txt');
    await page.getByRole('button', { name: 'Save the new name of draft.txt' }).click();
    await page.locator('#status').filter({ hasText: 'Renamed draft.txt to final.txt.' }).waitFor();
    expect(await entryNames(page)).toEqual(['final.txt']);

    await page.getByRole('button', { name: 'Rename or move final.txt' }).click();
    await page.getByLabel('New name for final.txt').fill('archive/final.txt');
    await page.getByRole('button', { name: 'Save the new name of final.txt' }).click();
    await page.locator('#status').filter({ hasText: 'Moved final.txt to archive/final.txt.' }).waitFor();
    expect(await entryNames(page)).toEqual(['archive/']);

    const storage = await alicesStorage();
    try {
      expect(await storage.stat('draft.txt')).toBeUndefined();
      expect(await storage.stat('final.txt')).toBeUndefined();
      expect(await (await storage.download('archive/final.txt')).body.transformToString()).toBe('the first draft');
    } finally {
      storage.dispose();
    }
  });

  it("refuses a name that would leave alice's folder, and changes nothing", async () => {
    const page = app.page;
    await openFolder('archive');
    await page.getByRole('button', { name: 'Rename or move final.txt' }).click();
    await page.getByLabel('New name for final.txt').fill('../../bob/final.txt');
    await page.getByRole('button', { name: 'Save the new name of final.txt' }).click();
    await page.locator('#error').filter({ hasText: 'cannot be stored under that name' }).waitFor();
    await page.getByRole('button', { name: 'Cancel renaming final.txt' }).click();
    expect(await entryNames(page)).toEqual(['final.txt']);
  });

  it('deletes a folder and everything under it, after saying how many files go', async () => {
    const page = app.page;
    await newFolder('old');
    await openFolder('old');
    await choose([{ name: 'notes.txt', body: 'notes' }]);
    await uploaded('archive/old/notes.txt');
    await page.getByRole('button', { name: 'Open My files, your top folder' }).click();
    await page.locator('#breadcrumbs [aria-current]').filter({ hasText: 'My files' }).waitFor();
    await newFolder('keep');

    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete folder archive' }).click();
    await page.locator('#status').filter({ hasText: 'Deleted folder archive and the 2 files in it.' }).waitFor();
    expect(questions).toEqual([
      'Delete folder "archive"? Everything in it goes: 2 files, sub-folders included. This cannot be undone.',
    ]);
    expect(await entryNames(page)).toEqual(['keep/']);

    const storage = await alicesStorage();
    try {
      const { client, info } = await storage.s3Client();
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const left = await client.send(
        new ListObjectsV2Command({ Bucket: info.bucket, Prefix: `${info.prefix}archive` }),
      );
      expect(left.Contents ?? []).toEqual([]);
    } finally {
      storage.dispose();
    }
  });
});

describe('the upload list', () => {
  it('on a 390 px phone, ten uploads stay in a short box above the folder\'s files, and "Clear list" empties it', async () => {
    const page = app.page;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await openFolder('keep');
      const names = Array.from({ length: 10 }, (_, index) => `phone-photo-${index}.jpg`);
      await choose(names.map((name) => ({ name, body: `photo ${name}` })));
      for (const name of names) await uploaded(`keep/${name}`);
      await page.locator('#entries li.file').nth(9).waitFor();
      const box = await page.locator('#uploads').boundingBox();
      const firstFile = await page.locator('#entries li').first().boundingBox();
      // The list scrolls inside its box: the folder's files start right below it.
      expect(box!.height).toBeLessThan(300);
      expect(firstFile!.y - (box!.y + box!.height)).toBeLessThan(60);
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      await screenshot(page, 'web-app-uploads-phone.png');

      await page.getByRole('button', { name: 'Clear list' }).click();
      expect(await page.locator('#uploads').isVisible()).toBe(false);
      expect(await page.locator('#upload-list li').count()).toBe(0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('belongs to its folder: finished uploads are not shown in another folder, nor when coming back', async () => {
    const page = app.page;
    await choose([{ name: 'one-more.jpg', body: 'one more' }]);
    await uploaded('keep/one-more.jpg');
    await page.getByRole('button', { name: 'Up one folder' }).click();
    await page.locator('#breadcrumbs [aria-current]').filter({ hasText: 'My files' }).waitFor();
    expect(await page.locator('#uploads').isVisible()).toBe(false);
    await openFolder('keep');
    expect(await page.locator('#uploads').isVisible()).toBe(false);
  });
});

describe('slow uploads', () => {
  afterEach(async () => {
    await uplink(undefined);
  });

  it('shows progress within a 7 MiB part, not only when a part completes', async () => {
    const page = app.page;
    // Into a fresh folder at the top, wherever the tests before left the page.
    if (await page.locator('#up-button').isVisible())
      await page.getByRole('button', { name: 'Open My files, your top folder' }).click();
    await page.locator('#breadcrumbs [aria-current]').filter({ hasText: 'My files' }).waitFor();
    await newFolder('slow');
    await openFolder('slow');
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('#upload-list li[data-name="slow/eight.bin"] progress');
        if (bar) seen.push(bar.value);
      }).observe(document.getElementById('upload-list') as HTMLElement, {
        attributes: true,
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await uplink(3 * MiB);
    await choose([{ name: 'eight.bin', body: Buffer.alloc(8 * MiB, 7) }]);
    await page.locator('#upload-list li[data-name="slow/eight.bin"][data-state="done"]').waitFor({ timeout: 60_000 });
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    const within = [...new Set(seen.filter((value) => value > 0 && value < 1))];
    // Per part only, an 8 MiB file (parts of 7 and 1 MiB) would show at most 1/8 and 7/8 on the way.
    expect(
      within.filter((value) => Math.abs(value - 1 / 8) > 0.01 && Math.abs(value - 7 / 8) > 0.01).length,
    ).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('a cancelled upload is reported as cancelled, never as "All uploads finished: 0 B"', async () => {
    const page = app.page;
    await page.getByRole('button', { name: 'Clear list' }).click();
    await uplink(256 * 1024);
    await choose([{ name: 'cancel-me.bin', body: Buffer.alloc(2 * MiB, 1) }]);
    await page.locator('#upload-list li[data-name="slow/cancel-me.bin"][data-state="uploading"]').waitFor();
    await page.getByRole('button', { name: 'Cancel upload of cancel-me.bin' }).click();
    await page.locator('#upload-list li[data-name="slow/cancel-me.bin"][data-state="cancelled"]').waitFor();
    expect(await page.locator('#overall-text').textContent()).toBe('No files uploaded: 1 cancelled.');
  });

  it('logout asks before it cancels an upload in progress: "Cancel" keeps uploading, "OK" cancels and logs out', async () => {
    const page = app.page;
    await uplink(256 * 1024);
    await choose([{ name: 'unfinished.bin', body: Buffer.alloc(3 * MiB, 2) }]);
    await page.locator('#upload-list li[data-name="slow/unfinished.bin"][data-state="uploading"]').waitFor();

    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'Log out' }).click();
    expect(questions).toEqual(['Log out and cancel the upload in progress? What has not finished is not kept.']);
    expect(await page.locator('#files-view').isVisible()).toBe(true);
    expect(await page.locator('#upload-list li[data-name="slow/unfinished.bin"]').getAttribute('data-state')).toBe(
      'uploading',
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#auth-view').waitFor({ state: 'visible' });
    await uplink(undefined);
    expect(await page.locator('#status').textContent()).toBe('You are logged out.');
    expect(await page.evaluate(() => document.documentElement.outerHTML)).not.toContain('unfinished.bin');

    await submitAuthForm(page, alice, 'Log in');
    await waitForFolder(app);
    const storage = await alicesStorage();
    try {
      expect(await storage.stat('slow/unfinished.bin')).toBeUndefined();
    } finally {
      storage.dispose();
    }
    await logOutOf(app);
  });
});
