/**
 * The usage bar and a quota refusal in Chromium against the sandbox (DEFAULT_QUOTA_BYTES = 10
 * MiB): the bar follows `storage.usage` of each vend; with the folder's totals over the quota
 * (written as the meter's reconcile writes them), an upload is refused by S3 (the credentials
 * carry no write) and the page says the storage is full and what to do, not "permission";
 * with the totals back under, the next upload goes through on fresh credentials.
 */
import { localTarget } from '../../admin/target';
import { DynamoUsageStore } from '../../lambda/adapters/dynamo/usage-store';
import { dynamoStores } from '../../lambda/adapters/dynamo/stores';
import { parseUsername } from '../../lambda/accounts/username';
import { systemClock } from '../../lambda/platform/clock';
import { alice, startApp, submitAuthForm, waitForFolder, type AppUnderTest } from './file-store-helpers';

const MiB = 1024 * 1024;
let app: AppUnderTest;

beforeAll(async () => {
  app = await startApp({ width: 1000, height: 720 }, { DEFAULT_QUOTA_BYTES: String(10 * MiB) });
}, 60_000);

afterAll(async () => {
  await app?.close();
});

/** Sets alice's folder totals in the sandbox's table, under the meter's folder lease, as a reconcile does. */
async function setAliceTotals(bytes: number, objects: number): Promise<void> {
  const target = localTarget(app.dataDir);
  try {
    const username = parseUsername(alice.username);
    const user = await dynamoStores(target.dynamo, target.tableName).users.getUser(username);
    const lease = await new DynamoUsageStore(target.dynamo, target.tableName, systemClock).lease(
      username,
      user!.userId,
      'quota.browser.test',
      30_000,
    );
    await lease!.setTotals({ bytes, objects });
    await lease!.release();
  } finally {
    target.close();
  }
}

async function upload(name: string): Promise<void> {
  await app.page
    .getByLabel('Choose files to upload')
    .setInputFiles([{ name, buffer: Buffer.from(`bytes of ${name}`), mimeType: 'application/octet-stream' }]);
}

it('shows usage against the quota, says the storage is full on a refused upload, and uploads again once under it', async () => {
  const { page } = app;
  const usage = page.locator('#usage-text');
  await submitAuthForm(page, alice, 'Create account');
  await waitForFolder(app);
  await usage.filter({ hasText: '0 B of 10 MB' }).waitFor();

  await setAliceTotals(11 * MiB, 40);
  // A reload starts from the stored session: the first listing vends credentials, which now carry no write.
  await page.reload();
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  await usage.filter({ hasText: '11 MB of 10 MB: storage full' }).waitFor();
  expect(await page.locator('#usage').getAttribute('data-over-quota')).toBe('true');

  await upload('too-much.txt');
  await page.locator('#upload-list li[data-name="too-much.txt"][data-state="failed"]').waitFor();
  const error = await page.locator('#error').textContent();
  expect(error).toContain('Your storage is full (11 MB of 10 MB): nothing new can be stored.');
  expect(error).toContain('Delete files you no longer need');
  expect(error).not.toContain('permission');

  await setAliceTotals(3 * MiB, 12);
  await upload('fits.txt');
  await page.locator('#upload-list li[data-name="fits.txt"][data-state="done"]').waitFor();
  await usage.filter({ hasText: '3.0 MB of 10 MB' }).waitFor();
  expect(await page.locator('#usage').getAttribute('data-over-quota')).toBe('false');
  await page.locator('#entries .entry-name').filter({ hasText: 'fits.txt' }).waitFor();
}, 90_000);
