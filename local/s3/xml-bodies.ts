/**
 * The XML request bodies the S3 gate accepts, read with a real XML parser (xml.ts) under S3's
 * own limits, and checked against S3's schemas: a body that is not well-formed, too deep, or
 * not of its operation's shape is refused with S3's error code before anything is done.
 */
import { AwsAuthError } from '../shared/sigv4';
import { children, childNames, parseXmlBody, XmlBodyError, type XmlNode } from '../shared/xml';

/** The largest XML body the gate reads (10,000 Complete parts or 1,000 DeleteObjects keys fit). */
export const MAX_XML_BODY_BYTES = 2 * 1024 * 1024;
/** The largest ACL, tagging or other small XML body (10 tags of 128 and 256 characters, escaped, fit many times). */
export const MAX_SMALL_XML_BODY_BYTES = 64 * 1024;
/** S3's request schemas nest at most 5 elements deep; a little room, nothing more. */
const MAX_XML_DEPTH = 8;
/** DeleteObjects: at most this many keys per request (S3's limit). */
export const MAX_DELETE_KEYS = 1000;
/** Object tags: at most this many per object (S3's limit). */
export const MAX_OBJECT_TAGS = 10;
const MAX_TAG_KEY_CHARS = 128;
const MAX_TAG_VALUE_CHARS = 256;
/** Multipart uploads: part numbers run from 1 to this (S3's limit), so at most this many parts. */
export const MAX_PARTS = 10000;

/** S3's answer to a body that is not well-formed or does not fit the operation's schema. */
export function malformedXml(): AwsAuthError {
  return new AwsAuthError(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

/** S3's answer to an XML body past its size limit. */
export function xmlTooLarge(): AwsAuthError {
  return new AwsAuthError(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
}

/** Size limits of one kind of body: bytes, and elements (from S3's own limits on its lists). */
interface BodyLimits {
  readonly maxBytes: number;
  readonly maxElements: number;
}
// Delete + Quiet + (Object, Key, VersionId) per key.
const DELETE_LIMITS: BodyLimits = { maxBytes: MAX_XML_BODY_BYTES, maxElements: 2 + 3 * MAX_DELETE_KEYS };
// CompleteMultipartUpload + (Part, PartNumber, ETag and up to five checksums) per part.
const COMPLETE_LIMITS: BodyLimits = { maxBytes: MAX_XML_BODY_BYTES, maxElements: 1 + 8 * MAX_PARTS };
// Tagging, TagSet + (Tag, Key, Value) per tag; room for a few more, refused with S3's tag-count error.
const TAGGING_LIMITS: BodyLimits = { maxBytes: MAX_SMALL_XML_BODY_BYTES, maxElements: 2 + 3 * 4 * MAX_OBJECT_TAGS };
// S3 allows 100 grants: each Grant, Grantee, ID, DisplayName, Permission, plus the policy and owner.
const ACL_LIMITS: BodyLimits = { maxBytes: MAX_SMALL_XML_BODY_BYTES, maxElements: 5 + 5 * 100 };
const OTHER_LIMITS: BodyLimits = { maxBytes: MAX_SMALL_XML_BODY_BYTES, maxElements: 1000 };

/** Reads a body whose root must be `root`; S3's errors for anything else. */
function readRoot(body: Buffer | string, root: string | undefined, limits: BodyLimits): XmlNode {
  try {
    const document = parseXmlBody(body, { ...limits, maxDepth: MAX_XML_DEPTH });
    if (root !== undefined && document.root !== root) throw malformedXml();
    return document.content;
  } catch (error) {
    if (error instanceof XmlBodyError) {
      throw error.reason === 'too-large' ? xmlTooLarge() : malformedXml();
    }
    throw error;
  }
}

/** Refuses children other than `allowed`. */
function onlyChildren(node: XmlNode, allowed: readonly string[]): void {
  if (childNames(node).some((name) => !allowed.includes(name))) throw malformedXml();
}

/** The text of a child that must appear at most once (undefined if absent) and hold only text. */
function optionalText(node: XmlNode, name: string): string | undefined {
  const found = children(node, name);
  if (found.length === 0) return undefined;
  const [only] = found;
  if (found.length > 1 || typeof only !== 'string') throw malformedXml();
  return only;
}

function requiredText(node: XmlNode, name: string): string {
  const text = optionalText(node, name);
  if (text === undefined) throw malformedXml();
  return text;
}

/** The one child container named `name` (an empty element counts as an empty container). */
function single(node: XmlNode, name: string, required: boolean): XmlNode | undefined {
  const found = children(node, name);
  if (found.length > 1 || (required && found.length === 0)) throw malformedXml();
  return found[0];
}

/** S3's xs:boolean. */
function xmlBoolean(text: string | undefined): boolean {
  if (text === undefined) return false;
  const value = text.trim();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw malformedXml();
}

/** A DeleteObjects body: the keys in request order, and whether Quiet mode is asked for. */
export interface DeleteObjectsBody {
  readonly objects: readonly { readonly key: string; readonly versionId?: string }[];
  readonly quiet: boolean;
}

/** Reads `<Delete><Object><Key>..</Key></Object>...<Quiet>..</Quiet></Delete>`. */
export function parseDeleteObjectsBody(body: Buffer | string): DeleteObjectsBody {
  const root = readRoot(body, 'Delete', DELETE_LIMITS);
  onlyChildren(root, ['Object', 'Quiet']);
  const objects = children(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml();
  return {
    quiet: xmlBoolean(optionalText(root, 'Quiet')),
    objects: objects.map((object) => {
      // ETag, LastModifiedTime and Size (conditional deletes) are not in the sandbox.
      if (childNames(object).some((name) => ['ETag', 'LastModifiedTime', 'Size'].includes(name))) {
        throw new AwsAuthError(
          501,
          'NotImplemented',
          'A header or parameter you provided implies functionality that is not implemented: conditional deletes in DeleteObjects',
        );
      }
      onlyChildren(object, ['Key', 'VersionId']);
      const key = requiredText(object, 'Key');
      const versionId = optionalText(object, 'VersionId');
      return { key, ...(versionId !== undefined ? { versionId } : {}) };
    }),
  };
}

/**
 * Whether an AccessControlPolicy body grants full control to the bucket owner and nothing
 * else: the "equivalent form expressed in XML" of bucket-owner-full-control that a bucket
 * with ACLs disabled accepts (s3cmd sends one after every copy). Malformed XML is refused.
 */
export function aclBodyGrantsOnlyTo(body: Buffer | string, ownerCanonicalId: string): boolean {
  const root = readRoot(body, 'AccessControlPolicy', ACL_LIMITS);
  onlyChildren(root, ['Owner', 'AccessControlList']);
  const owner = single(root, 'Owner', false);
  if (owner !== undefined) onlyChildren(owner, ['ID', 'DisplayName']);
  const list = single(root, 'AccessControlList', true) as XmlNode;
  onlyChildren(list, ['Grant']);
  const grants = children(list, 'Grant');
  if (grants.length === 0) return false;
  return grants.every((grant) => {
    onlyChildren(grant, ['Grantee', 'Permission']);
    const grantee = single(grant, 'Grantee', true) as XmlNode;
    onlyChildren(grantee, ['ID', 'DisplayName', 'URI', 'EmailAddress']);
    return (
      childNames(grantee).every((name) => name === 'ID' || name === 'DisplayName') &&
      optionalText(grantee, 'ID')?.trim() === ownerCanonicalId &&
      requiredText(grant, 'Permission').trim() === 'FULL_CONTROL'
    );
  });
}

/** One object tag. */
export interface ObjectTag {
  readonly key: string;
  readonly value: string;
}

function invalidTag(message: string): AwsAuthError {
  return new AwsAuthError(400, 'InvalidTag', message);
}

/** Reads and checks `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>` (PutObjectTagging). */
export function parseTaggingBody(body: Buffer | string): ObjectTag[] {
  const root = readRoot(body, 'Tagging', TAGGING_LIMITS);
  onlyChildren(root, ['TagSet']);
  const tagSet = single(root, 'TagSet', true) as XmlNode;
  onlyChildren(tagSet, ['Tag']);
  const tags = children(tagSet, 'Tag').map((tag) => {
    onlyChildren(tag, ['Key', 'Value']);
    return { key: requiredText(tag, 'Key'), value: requiredText(tag, 'Value') };
  });
  if (tags.length > MAX_OBJECT_TAGS)
    throw new AwsAuthError(400, 'BadRequest', `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (key.length === 0 || [...key].length > MAX_TAG_KEY_CHARS)
      throw invalidTag('The TagKey you have provided is invalid');
    if ([...value].length > MAX_TAG_VALUE_CHARS) throw invalidTag('The TagValue you have provided is invalid');
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  return tags;
}

/** One part named in a CompleteMultipartUpload body. */
export interface CompletedPart {
  readonly partNumber: number;
  /** As sent (usually quoted). */
  readonly etag: string;
}

const CHECKSUM_ELEMENTS = ['ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumCRC64NVME', 'ChecksumSHA1', 'ChecksumSHA256'];

/**
 * Reads `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...` and checks its form:
 * 1 to 10,000 parts, each with a whole PartNumber and an ETag. Whether the parts exist, are
 * in order and large enough is the store's to check.
 */
export function parseCompleteMultipartUploadBody(body: Buffer | string): CompletedPart[] {
  const root = readRoot(body, 'CompleteMultipartUpload', COMPLETE_LIMITS);
  onlyChildren(root, ['Part']);
  const parts = children(root, 'Part');
  if (parts.length === 0 || parts.length > MAX_PARTS) throw malformedXml();
  return parts.map((part) => {
    onlyChildren(part, ['PartNumber', 'ETag', ...CHECKSUM_ELEMENTS]);
    const number = requiredText(part, 'PartNumber').trim();
    const etag = requiredText(part, 'ETag').trim();
    if (!/^\d{1,9}$/.test(number) || etag === '') throw malformedXml();
    const partNumber = Number(number);
    if (partNumber < 1 || partNumber > MAX_PARTS) {
      throw new AwsAuthError(
        400,
        'InvalidArgument',
        `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`,
        { ArgumentName: 'partNumber', ArgumentValue: number },
      );
    }
    return { partNumber, etag };
  });
}

/** Any other XML body the gate passes on: well-formed, within the limits (and its root as expected, if given). */
export function checkXmlBody(body: Buffer | string, root?: string): void {
  readRoot(body, root, OTHER_LIMITS);
}

/** What reading each kind of XML body gives the gate (only what it acts on, so little crosses threads). */
export interface XmlBodyResults {
  readonly DeleteObjects: DeleteObjectsBody;
  /** Whether the ACL grants only the owner full control. */
  readonly PutObjectAcl: boolean;
  readonly PutObjectTagging: ObjectTag[];
  /** How many parts (the gate checks the form; the emulator reads the parts). */
  readonly CompleteMultipartUpload: number;
  /** The parts, for the emulator. */
  readonly CompletedParts: CompletedPart[];
  /** Any other body: only checked. */
  readonly other: null;
}
/** The kinds of XML body the gate reads. */
export type XmlBodyKind = keyof XmlBodyResults;

/** The reader of each kind of body; `ownerCanonicalId` is the bucket owner's (for ACLs). Throws S3's errors. */
export const XML_BODY_READERS: {
  readonly [K in XmlBodyKind]: (body: Buffer, ownerCanonicalId: string) => XmlBodyResults[K];
} = {
  DeleteObjects: (body) => parseDeleteObjectsBody(body),
  PutObjectAcl: (body, owner) => aclBodyGrantsOnlyTo(body, owner),
  PutObjectTagging: (body) => parseTaggingBody(body),
  CompleteMultipartUpload: (body) => parseCompleteMultipartUploadBody(body).length,
  CompletedParts: (body) => parseCompleteMultipartUploadBody(body),
  other: (body) => {
    checkXmlBody(body);
    return null;
  },
};
