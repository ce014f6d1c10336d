/**
 * The sharing API end to end through the sandbox, with the real AWS SDK S3 client: alice shares
 * a folder and a file with bob, bob lists what he received and vends credentials that reach
 * exactly the shared path, carol is told nothing, and a share link redirects to a presigned URL
 * of exactly one file until alice revokes it. (The attack suite is test/sharing/*proof* and
 * *isolation*; this file is the API's behaviour.)
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type {
  LinkCreated,
  LinkList,
  ShareCredentialsResult,
  ShareList,
  ShareSummary,
} from '../../lambda/contract/wire';
import { register, s3ClientFor, s3ErrorCode, sandboxForThisFile, type VendResponse } from '../support/e2e';

const PASSWORD = 'correct horse battery staple';
const sandbox = sandboxForThisFile('tvm-share-api-');

let alice: VendResponse;
let bob: VendResponse;
let carol: VendResponse;

async function call(
  method: 'GET' | 'DELETE' | 'POST',
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${sandbox().apiUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: response.headers };
}

const put = (client: S3Client, key: string, body: string) =>
  client.send(new PutObjectCommand({ Bucket: sandbox().bucket, Key: key, Body: body }));
const read = async (client: S3Client, key: string) =>
  (await client.send(new GetObjectCommand({ Bucket: sandbox().bucket, Key: key }))).Body?.transformToString();

beforeAll(async () => {
  const apiUrl = sandbox().apiUrl;
  [alice, bob, carol] = await Promise.all([
    register(apiUrl, 'alice', PASSWORD),
    register(apiUrl, 'bob', PASSWORD),
    register(apiUrl, 'carol', PASSWORD),
  ]);
  const aliceS3 = s3ClientFor(alice);
  await put(aliceS3, 'alice/photos/x', 'photo x');
  await put(aliceS3, 'alice/photos/a.jpg', 'photo a');
  await put(aliceS3, 'alice/photos/a.jpg.bak', 'backup of a');
  await put(aliceS3, 'alice/other/secret.txt', 'not shared');
}, 60_000);

describe('shares through the API', () => {
  let folderShare: ShareSummary;
  let shareCredentials: ShareCredentialsResult;

  it('alice shares photos/ read-only with bob (201), and bob lists it as received', async () => {
    const created = await call('POST', '/shares', alice.session.token, {
      path: 'photos/',
      grantee: 'bob',
      access: 'read',
    });
    expect(created.status).toBe(201);
    folderShare = created.body as ShareSummary;
    expect(folderShare).toMatchObject({
      owner: 'alice',
      grantee: 'bob',
      path: 'photos/',
      access: 'read',
      expiresAt: null,
    });
    const listed = await call('GET', '/shares', bob.session.token);
    expect(listed.status).toBe(200);
    expect((listed.body as ShareList).received).toEqual([folderShare]);
    expect((listed.body as ShareList).given).toEqual([]);
  });

  it('a refused share (a path with a wildcard) is a 400 naming the field', async () => {
    const refused = await call('POST', '/shares', alice.session.token, {
      path: 'photos/*',
      grantee: 'bob',
      access: 'read',
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_request', field: 'path' } });
  });

  it("bob's share credentials read alice/photos/x, and nothing else: not alice/other, not alice/'s listing, no writes", async () => {
    const vended = await call('POST', `/shares/${folderShare.id}/credentials`, bob.session.token);
    expect(vended.status).toBe(200);
    shareCredentials = vended.body as ShareCredentialsResult;
    expect(shareCredentials.storage).toMatchObject({ bucket: sandbox().bucket, prefix: 'alice/photos/' });
    expect(shareCredentials.access).toBe('read');
    const shared = s3ClientFor(shareCredentials);
    expect(await read(shared, 'alice/photos/x')).toBe('photo x');
    const listing = await shared.send(new ListObjectsV2Command({ Bucket: sandbox().bucket, Prefix: 'alice/photos/' }));
    expect(listing.Contents?.map((object) => object.Key).sort()).toEqual([
      'alice/photos/a.jpg',
      'alice/photos/a.jpg.bak',
      'alice/photos/x',
    ]);
    expect(await s3ErrorCode(read(shared, 'alice/other/secret.txt'))).toBe('AccessDenied');
    expect(
      await s3ErrorCode(shared.send(new ListObjectsV2Command({ Bucket: sandbox().bucket, Prefix: 'alice/' }))),
    ).toBe('AccessDenied');
    expect(await s3ErrorCode(put(shared, 'alice/photos/new.jpg', 'bob writes'))).toBe('AccessDenied');
    expect(await s3ErrorCode(read(shared, 'bob/anything'))).toBe('AccessDenied');
  });

  it('alice sees when and by whom the share was last used', async () => {
    const listed = (await call('GET', '/shares', alice.session.token)).body as ShareList;
    expect(listed.given[0]).toMatchObject({ id: folderShare.id, lastUsedBy: 'bob', lastUsedAt: expect.any(String) });
  });

  it('a file share reaches that one key: not photos/a.jpg.bak, and no listing', async () => {
    const created = await call('POST', '/shares', alice.session.token, {
      path: 'photos/a.jpg',
      grantee: 'bob',
      access: 'read',
    });
    expect(created.status).toBe(201);
    const vended = await call('POST', `/shares/${(created.body as ShareSummary).id}/credentials`, bob.session.token);
    const credentials = vended.body as ShareCredentialsResult;
    expect(credentials.storage.prefix).toBe('alice/photos/a.jpg');
    const shared = s3ClientFor(credentials);
    expect(await read(shared, 'alice/photos/a.jpg')).toBe('photo a');
    expect(await s3ErrorCode(read(shared, 'alice/photos/a.jpg.bak'))).toBe('AccessDenied');
    expect(
      await s3ErrorCode(
        shared.send(new ListObjectsV2Command({ Bucket: sandbox().bucket, Prefix: 'alice/photos/a.jpg' })),
      ),
    ).toBe('AccessDenied');
  });

  it("carol gets 404 on bob's share credentials, the same answer as an unknown share", async () => {
    const asCarol = await call('POST', `/shares/${folderShare.id}/credentials`, carol.session.token);
    const unknown = await call('POST', `/shares/${'A'.repeat(32)}/credentials`, carol.session.token);
    expect(asCarol.status).toBe(404);
    expect(asCarol.body).toEqual(unknown.body);
    expect(asCarol.body).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('ending a share through the API', () => {
  it('alice revokes (204): bob lists nothing, new credentials are 404 and those issued before are refused at once', async () => {
    const created = (
      await call('POST', '/shares', alice.session.token, { path: 'photos/', grantee: 'bob', access: 'read' })
    ).body as ShareSummary;
    const issued = (await call('POST', `/shares/${created.id}/credentials`, bob.session.token))
      .body as ShareCredentialsResult;
    const before = s3ClientFor(issued);
    expect(await read(before, 'alice/photos/x')).toBe('photo x');
    expect((await call('DELETE', `/shares/${created.id}`, carol.session.token)).status).toBe(404);
    expect((await call('DELETE', `/shares/${created.id}`, alice.session.token)).status).toBe(204);
    expect(((await call('GET', '/shares', bob.session.token)).body as ShareList).received).not.toContainEqual(
      expect.objectContaining({ id: created.id }),
    );
    expect((await call('POST', `/shares/${created.id}/credentials`, bob.session.token)).status).toBe(404);
    expect(await s3ErrorCode(read(before, 'alice/photos/x'))).toBe('AccessDenied');
  });
});

describe('share links through the API', () => {
  let link: LinkCreated;

  it('alice links photos/a.jpg (201); opening it is a 302 to a presigned URL that fetches exactly that file', async () => {
    const created = await call('POST', '/links', alice.session.token, { path: 'photos/a.jpg' });
    expect(created.status).toBe(201);
    link = created.body as LinkCreated;
    expect(link.url).toBe(`${sandbox().apiUrl}/l/${link.id}`);
    const opened = await fetch(link.url, { redirect: 'manual' });
    expect(opened.status).toBe(302);
    expect(opened.headers.get('cache-control')).toBe('no-store');
    const location = opened.headers.get('location') ?? '';
    const presigned = new URL(location);
    expect(decodeURIComponent(presigned.pathname)).toBe(`/${sandbox().bucket}/alice/photos/a.jpg`);
    expect(Number(presigned.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe('photo a');
    // The same signature for another key is refused: the URL reaches that object only.
    const other = new URL(location);
    other.pathname = `/${sandbox().bucket}/alice/photos/a.jpg.bak`;
    expect((await fetch(other)).status).toBe(403);
    const listed = (await call('GET', '/links', alice.session.token)).body as LinkList;
    expect(listed.links).toEqual([
      expect.objectContaining({ id: link.id, url: link.url, path: 'photos/a.jpg', lastUsedAt: expect.any(String) }),
    ]);
  });

  it('after DELETE /links/{id} (204), opening the link is a 404 in the TVM error shape', async () => {
    expect((await call('DELETE', `/links/${link.id}`, bob.session.token)).status).toBe(404);
    expect((await call('DELETE', `/links/${link.id}`, alice.session.token)).status).toBe(204);
    const opened = await call('GET', `/l/${link.id}`, undefined);
    expect(opened.status).toBe(404);
    expect(opened.body).toMatchObject({ error: { code: 'not_found' } });
    expect(((await call('GET', '/links', alice.session.token)).body as LinkList).links).toEqual([]);
  });
});
