/**
 * A 200 MiB file dropped on the Personal File Store in Chromium: it goes up in parts (S3
 * multipart, which a single PUT could not), with a progress bar per file and overall, and
 * arrives byte for byte. Long tasks on the page's main thread are measured during the upload
 * (PerformanceObserver 'longtask') and written to test-artifacts/longtasks.json; no threshold
 * is asserted, the machine is shared. A second drop is cancelled half-way.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { MemorySessionStore, TvmClient, type StoredSession } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';
import { BLOCK_BYTES, expectPatternStream, patternBody } from '../support/pattern-body';
import {
  alice,
  entryNames,
  screenshot,
  SESSION_KEY,
  startApp,
  submitAuthForm,
  waitForFolder,
  type AppUnderTest,
} from './file-store-helpers';

const MiB = 1024 * 1024;
const ARTIFACTS = resolve(__dirname, '../../test-artifacts');

let app: AppUnderTest;

beforeAll(async () => {
  app = await startApp();
  await submitAuthForm(app.page, alice, 'Create account');
  await waitForFolder(app);
}, 60_000);

afterAll(async () => {
  await app?.close();
});

/**
 * Builds a File of `blocks` MiB in the page from the pattern's base block (block i carries i
 * in its first eight bytes, as in Node) and drops it on the drop zone.
 */
async function dropPatternFile(name: string, base: Buffer, blocks: number): Promise<void> {
  await app.page.evaluate(
    async ({ name, base64, blocks, blockBytes }) => {
      const base = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
      const parts: Uint8Array[] = [];
      for (let index = 0; index < blocks; index++) {
        const block = new Uint8Array(blockBytes);
        block.set(base);
        new DataView(block.buffer).setBigUint64(0, BigInt(index));
        parts.push(block);
      }
      const file = new File(parts as BlobPart[], name, { type: 'application/octet-stream' });
      // Yield once, so generating the file is not measured as part of the upload.
      await new Promise((done) => setTimeout(done, 50));
      const transfer = new DataTransfer();
      transfer.items.add(file);
      const zone = document.getElementById('drop-zone');
      zone?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { name, base64: base.toString('base64'), blocks, blockBytes: BLOCK_BYTES },
  );
}

/** Starts recording the page's long tasks and the progress values its bars show. */
async function startRecording(): Promise<void> {
  await app.page.evaluate(() => {
    const record = window as unknown as {
      longTasks: number[];
      itemProgress: number[];
      overallProgress: number[];
      longTaskSupported: boolean;
    };
    record.longTasks = [];
    record.itemProgress = [];
    record.overallProgress = [];
    record.longTaskSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
    new PerformanceObserver((list) =>
      record.longTasks.push(...list.getEntries().map((entry) => entry.duration)),
    ).observe({ type: 'longtask' });
    new MutationObserver((changes) => {
      for (const change of changes) {
        const bar = change.target as HTMLProgressElement;
        if (bar.id === 'overall-progress') record.overallProgress.push(bar.value);
        else if (bar instanceof HTMLProgressElement) record.itemProgress.push(bar.value);
      }
    }).observe(document.getElementById('uploads') as HTMLElement, {
      attributes: true,
      attributeFilter: ['value'],
      subtree: true,
    });
  });
}

async function recording(): Promise<{
  longTasks: number[];
  itemProgress: number[];
  overallProgress: number[];
  longTaskSupported: boolean;
}> {
  return app.page.evaluate(() => {
    const record = window as unknown as {
      longTasks: number[];
      itemProgress: number[];
      overallProgress: number[];
      longTaskSupported: boolean;
    };
    return {
      longTasks: record.longTasks,
      itemProgress: record.itemProgress,
      overallProgress: record.overallProgress,
      longTaskSupported: record.longTaskSupported,
    };
  });
}

describe('a large file in the Personal File Store', () => {
  it('uploads a dropped 200 MiB file in parts with progress per file and overall, and S3 holds it byte for byte', async () => {
    const pattern = patternBody(200 * MiB);
    await startRecording();
    const partsSent: string[] = [];
    app.page.on('request', (request) => {
      if (request.method() === 'PUT' && request.url().includes('partNumber=')) partsSent.push(request.url());
    });
    const started = Date.now();
    await dropPatternFile('video.bin', pattern.base, 200);
    await app.page.locator('#upload-list li[data-name="video.bin"][data-state="uploading"]').waitFor();
    await app.page
      .locator('#overall-text')
      .filter({ hasText: /\((?:[1-9]\d?)%\)/ })
      .waitFor({ timeout: 60_000 });
    await screenshot(app.page, 'web-app-uploading.png');
    await app.page.locator('#upload-list li[data-name="video.bin"][data-state="done"]').waitFor({ timeout: 180_000 });
    const elapsedMs = Date.now() - started;

    const recorded = await recording();
    const longTasks = {
      count: recorded.longTasks.length,
      maxMs: Math.max(0, ...recorded.longTasks),
      totalMs: recorded.longTasks.reduce((sum, ms) => sum + ms, 0),
      uploadMs: elapsedMs,
      sizeBytes: pattern.sizeBytes,
    };
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, 'longtasks.json'), `${JSON.stringify(longTasks, null, 2)}\n`);
    console.log(`200 MiB browser upload: ${elapsedMs} ms; long tasks: ${JSON.stringify(longTasks)}`);

    expect(recorded.longTaskSupported).toBe(true);
    // Multipart: 29 parts of 7 MiB (one PUT of 200 MiB would be refused by S3's gate here).
    expect(new Set(partsSent.map((url) => new URL(url).searchParams.get('partNumber'))).size).toBe(29);
    // Progress moved part by part, for the file and overall, and ended full.
    expect(recorded.itemProgress.filter((value) => value > 0 && value < 1).length).toBeGreaterThanOrEqual(10);
    expect(recorded.overallProgress.filter((value) => value > 0 && value < 1).length).toBeGreaterThanOrEqual(10);
    expect(recorded.itemProgress.at(-1)).toBe(1);
    expect(await app.page.locator('#upload-list li[data-name="video.bin"] .upload-text').textContent()).toBe(
      'Uploaded · 200 MB',
    );
    await app.page.locator('#entries li.file[data-name="video.bin"]').waitFor();

    // Checked outside the page, with alice's own session, as another app of hers would.
    const stored = JSON.parse(
      (await app.page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)) ?? 'null',
    ) as StoredSession;
    const storage = new TvmStorage({
      client: new TvmClient({ baseUrl: app.sandbox.apiUrl, sessionStore: new MemorySessionStore(stored) }),
    });
    try {
      const download = await storage.download('video.bin');
      expect(await expectPatternStream(download.body as Readable, pattern)).toBe(pattern.sizeBytes);
    } finally {
      storage.dispose();
    }
  }, 240_000);

  it('cancels a dropped 64 MiB upload while it is sending: the file is marked cancelled and never listed', async () => {
    const pattern = patternBody(64 * MiB);
    await dropPatternFile('cancel-me.bin', pattern.base, 64);
    await app.page.locator('#upload-list li[data-name="cancel-me.bin"][data-state="uploading"]').waitFor();
    await app.page.getByRole('button', { name: 'Cancel upload of cancel-me.bin' }).click();

    await app.page.locator('#upload-list li[data-name="cancel-me.bin"][data-state="cancelled"]').waitFor();
    await app.page.locator('#status').filter({ hasText: 'Cancelled cancel-me.bin; nothing of it was kept.' }).waitFor();
    await app.page.getByRole('button', { name: 'Refresh' }).click();
    await app.page.locator('#status').filter({ hasText: 'File list updated.' }).waitFor();
    expect(await entryNames(app.page)).toEqual(['video.bin']);
  }, 60_000);
});
