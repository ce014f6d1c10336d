/**
 * The multipart operations the emulator's process answers itself (operations.ts routes to
 * them): UploadPart (Content-MD5, atomic commit), CompleteMultipartUpload (S3's checks, never
 * a crash), AbortMultipartUpload and ListParts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { escapeXml } from '../../shared/xml';
import { OWNER_CANONICAL_ID } from '../uploads';
import { startXmlReader, XML_INLINE_MAX_BYTES } from '../xml-thread';
import { S3Failure, invalidPart, malformedXml, noSuchUpload, readAll, sendXml } from './answers';
import type { SafeStore } from './store';
import { checkContentMd5, recordFromHeaders, writeCondition } from './writes';

/** S3's smallest part, except the last (CompleteMultipartUpload answers EntityTooSmall below it). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

export async function uploadPart(
  store: SafeStore,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  uploadId: string,
  partNumber: string,
): Promise<void> {
  const body = await readAll(req);
  checkContentMd5(req, body);
  const { md5 } = await store.putPart(bucket, uploadId, partNumber, body);
  res.writeHead(200, { ETag: `"${md5}"`, 'Content-Length': '0' });
  res.end();
}

// htmlEntities: numeric character references too (Go's encoder, rclone's, writes " as &#34;).
const completeParser = new XMLParser({
  parseTagValue: false,
  ignoreAttributes: true,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => name === 'Part',
});

/** The parts a Complete body lists, in its order; MalformedXML unless each has a whole PartNumber and an ETag. */
export function completeParts(xml: string): { partNumber: number; etag: string }[] {
  if (XMLValidator.validate(xml) !== true) throw malformedXml();
  let document: unknown;
  try {
    document = completeParser.parse(xml);
  } catch {
    throw malformedXml();
  }
  const root = (document as { CompleteMultipartUpload?: { Part?: unknown } } | undefined)?.CompleteMultipartUpload;
  const parts = root?.Part;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PART_NUMBER) throw malformedXml();
  return parts.map((part: unknown) => {
    const { PartNumber: number, ETag: etag } = (part ?? {}) as { PartNumber?: unknown; ETag?: unknown };
    if (typeof number !== 'string' || !/^[1-9][0-9]{0,4}$/.test(number.trim()) || Number(number) > MAX_PART_NUMBER)
      throw malformedXml();
    if (typeof etag !== 'string' || etag.trim() === '') throw malformedXml();
    return { partNumber: Number(number.trim()), etag: etag.trim().replace(/"/g, '') };
  });
}

// A large Complete body (10,000 parts, about 1.3 MB) takes a second to parse: read on a thread
// (with the gate's reader, which already passed the body) so no other request waits on it.
const completeReader = startXmlReader({
  ownerCanonicalId: OWNER_CANONICAL_ID,
  busy: () => new S3Failure(503, 'SlowDown', 'Please reduce your request rate.'),
});
async function readCompleteParts(body: Buffer): Promise<{ partNumber: number; etag: string }[]> {
  if (body.length <= XML_INLINE_MAX_BYTES) return completeParts(body.toString('utf8'));
  return (await completeReader.read('CompletedParts', body)).map(({ partNumber, etag }) => ({
    partNumber,
    etag: etag.replace(/"/g, ''),
  }));
}

export async function completeUpload(
  store: SafeStore,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  const parts = await readCompleteParts(await readAll(req));
  for (let i = 1; i < parts.length; i++) {
    if ((parts[i]?.partNumber ?? 0) <= (parts[i - 1]?.partNumber ?? 0)) {
      throw new S3Failure(
        400,
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        { UploadId: uploadId },
      );
    }
  }
  const result = await store.uploadLocked(bucket, uploadId, async () => {
    const upload = await store.readUpload(bucket, uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    const stored = new Map((await store.listStoredParts(bucket, uploadId)).map((part) => [part.partNumber, part]));
    parts.forEach((part, index) => {
      const found = stored.get(part.partNumber);
      if (!found || found.etag.replace(/"/g, '') !== part.etag) throw invalidPart();
      if (index < parts.length - 1 && found.size < MIN_PART_BYTES) {
        throw new S3Failure(
          400,
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          {
            ProposedSize: String(found.size),
            MinSizeAllowed: String(MIN_PART_BYTES),
            PartNumber: String(part.partNumber),
            ETag: found.etag,
          },
        );
      }
    });
    const headers = req.headers as Record<string, unknown>;
    return store.completeUpload(
      bucket,
      uploadId,
      key,
      parts.map((part) => part.partNumber),
      recordFromHeaders(bucket, key, upload.headers),
      writeCondition(headers, key),
    );
  });
  sendXml(
    res,
    '<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Location>http://localhost/${escapeXml(bucket)}/${escapeXml(key)}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${result.md5}"</ETag>` +
      '</CompleteMultipartUploadResult>',
  );
}

export async function abortUpload(
  store: SafeStore,
  res: ServerResponse,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  await store.uploadLocked(bucket, uploadId, async () => {
    const upload = await store.readUpload(bucket, uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    await store.abortUpload(bucket, uploadId);
  });
  res.writeHead(204);
  res.end();
}

export async function listParts(
  store: SafeStore,
  res: ServerResponse,
  bucket: string,
  key: string,
  query: URLSearchParams,
): Promise<void> {
  const uploadId = query.get('uploadId') ?? '';
  const marker = Number(query.get('part-number-marker') ?? 0);
  const maxParts = Math.min(Number(query.get('max-parts') ?? 1000), 1000);
  const all = await store.uploadLocked(bucket, uploadId, async () => {
    const upload = await store.readUpload(bucket, uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    return store.listStoredParts(bucket, uploadId);
  });
  const after = all.filter((part) => part.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const owner = `<ID>${OWNER_CANONICAL_ID}</ID>`;
  sendXml(
    res,
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId>` +
      `<Initiator>${owner}</Initiator><Owner>${owner}</Owner><StorageClass>STANDARD</StorageClass>` +
      `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker>` +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
      page
        .map(
          (part) =>
            `<Part><PartNumber>${part.partNumber}</PartNumber><LastModified>${part.lastModified.toISOString()}</LastModified><ETag>${escapeXml(part.etag)}</ETag><Size>${part.size}</Size></Part>`,
        )
        .join('') +
      '</ListPartsResult>',
  );
}
