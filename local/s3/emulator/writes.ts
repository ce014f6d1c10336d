/** What the emulator's writes (operations.ts's PutObject, multipart.ts's parts and Complete) check and record from a request's headers. */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { escapeXml } from '../../shared/xml';
import { S3Failure, etagListMatches, header, noSuchKey, preconditionFailed } from './answers';
import { storedMetadata, type ObjectRecord, type WriteCondition } from './store';

/* eslint-disable @typescript-eslint/no-require-imports -- s3rver is CommonJS without types */
const { TaggingConfiguration } = require('@20minutes/s3rver/lib/models/config') as {
  TaggingConfiguration: { validate(xml: string): { toXML(space?: number): string } };
};
const S3Object = require('@20minutes/s3rver/lib/models/object') as new (
  bucket: string,
  key: string,
  content: unknown,
  metadata: Record<string, unknown>,
) => { metadata: Record<string, string> };
/* eslint-enable @typescript-eslint/no-require-imports */

const MAX_TAGS = 10;

/** Refuses a body whose Content-MD5 is malformed or does not match. */
export function checkContentMd5(req: IncomingMessage, body: Buffer): void {
  const declared = header(req, 'content-md5');
  if (declared === undefined) return;
  const digest = Buffer.from(declared, 'base64');
  if (digest.length !== 16 || digest.toString('base64') !== declared)
    throw new S3Failure(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  if (!createHash('md5').update(body).digest().equals(digest))
    throw new S3Failure(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
}

/** `x-amz-tagging` (a URL-encoded query string) as s3rver's tagging.xml; S3's limits apply. */
function taggingXml(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const tags = [...new URLSearchParams(value)];
  const invalid = (message: string) => new S3Failure(400, 'InvalidTag', message);
  if (tags.length > MAX_TAGS) throw invalid('Object tags cannot be greater than 10');
  if (new Set(tags.map(([name]) => name)).size !== tags.length)
    throw invalid('Cannot provide multiple Tags with the same key');
  for (const [name, tagValue] of tags) {
    if (name === '' || [...name].length > 128) throw invalid('The TagKey you have provided is invalid');
    if ([...tagValue].length > 256) throw invalid('The TagValue you have provided is invalid');
  }
  const xml = `<Tagging><TagSet>${tags.map(([name, tagValue]) => `<Tag><Key>${escapeXml(name)}</Key><Value>${escapeXml(tagValue)}</Value></Tag>`).join('')}</TagSet></Tagging>`;
  return TaggingConfiguration.validate(xml).toXML(2);
}

/** The metadata and tags a write's request headers give the new object. */
export function recordFromHeaders(bucket: string, key: string, headers: Record<string, unknown>): ObjectRecord {
  const taggingHeader = headers['x-amz-tagging'];
  const tags = taggingXml(typeof taggingHeader === 'string' ? taggingHeader : undefined);
  return {
    metadata: storedMetadata(new S3Object(bucket, key, null, headers).metadata),
    ...(tags !== undefined ? { taggingXml: tags } : {}),
  };
}

/** PUT's If-None-Match (only `*`, as S3) and If-Match, checked against the version current at commit. */
export function writeCondition(headers: Record<string, unknown>, key: string): WriteCondition | undefined {
  const ifNoneMatch = typeof headers['if-none-match'] === 'string' ? headers['if-none-match'] : undefined;
  const ifMatch = typeof headers['if-match'] === 'string' ? headers['if-match'] : undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*')
    throw new S3Failure(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'If-None-Match',
    });
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!current) throw noSuchKey(key);
      if (!etagListMatches(ifMatch, current.etag)) throw preconditionFailed('If-Match');
    }
  };
}
