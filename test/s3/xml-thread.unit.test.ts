/**
 * The XML reader of the gate (and the emulator): large bodies are read on its thread with the
 * same answer as in place, S3's errors cross the thread intact, and past its queue a body is
 * refused with the caller's busy error instead of waiting.
 */
import { XML_BODY_READERS } from '../../local/s3/xml-bodies';
import { AwsAuthError } from '../../local/shared/sigv4';
import { startXmlReader, XML_INLINE_MAX_BYTES, XML_THREAD_MAX_QUEUED, type XmlReader } from '../../local/s3/xml-thread';

const busy = () => new AwsAuthError(503, 'SlowDown', 'Please reduce your request rate.');
const completeBody = (parts: number, etag = '"abc"') =>
  Buffer.from(
    `<CompleteMultipartUpload>${Array.from({ length: parts }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
  );

let reader: XmlReader;
beforeEach(() => {
  reader = startXmlReader({ ownerCanonicalId: 'owner', busy });
});
afterEach(() => reader.stop());

test('a body too large to read in place is read on the thread, with the same parts as in place', async () => {
  const body = completeBody(2_000);
  expect(body.length).toBeGreaterThan(XML_INLINE_MAX_BYTES);
  await expect(reader.read('CompletedParts', body)).resolves.toEqual(XML_BODY_READERS.CompletedParts(body, 'owner'));
  await expect(reader.read('CompleteMultipartUpload', body)).resolves.toBe(2_000);
});

test("S3's error for a large malformed body crosses the thread as S3's error", async () => {
  const body = Buffer.concat([completeBody(2_000), Buffer.from('<extra/>')]);
  await expect(reader.read('CompleteMultipartUpload', body)).rejects.toMatchObject({
    name: 'AwsAuthError',
    status: 400,
    code: 'MalformedXML',
  });
  const noEtag = completeBody(2_000, '');
  await expect(reader.read('CompletedParts', noEtag)).rejects.toMatchObject({ status: 400, code: 'MalformedXML' });
});

test('past its queue a large body is refused with the busy error, and the reader then reads again', async () => {
  const body = completeBody(2_000);
  const answers = await Promise.allSettled(
    Array.from({ length: XML_THREAD_MAX_QUEUED + 2 }, () => reader.read('CompleteMultipartUpload', body)),
  );
  expect(answers.filter((answer) => answer.status === 'fulfilled')).toHaveLength(XML_THREAD_MAX_QUEUED);
  for (const answer of answers.slice(XML_THREAD_MAX_QUEUED))
    expect(answer).toMatchObject({ status: 'rejected', reason: { code: 'SlowDown' } });
  await expect(reader.read('CompleteMultipartUpload', body)).resolves.toBe(2_000);
});

test('small bodies are read in place with the same answers', async () => {
  await expect(reader.read('other', Buffer.from('<a><b/></a>'))).resolves.toBeNull();
  await expect(
    reader.read(
      'PutObjectTagging',
      Buffer.from('<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>'),
    ),
  ).resolves.toEqual([{ key: 'k', value: 'v' }]);
  await expect(
    reader.read(
      'PutObjectAcl',
      Buffer.from(
        '<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>owner</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>',
      ),
    ),
  ).resolves.toBe(true);
});

test('a reader stopped with a body on its thread refuses that body with the busy error', async () => {
  const pending = reader.read('CompleteMultipartUpload', completeBody(2_000)).catch((error: unknown) => error);
  await reader.stop();
  expect(await pending).toMatchObject({ code: 'SlowDown' });
});
