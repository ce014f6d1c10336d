/**
 * Decoding of S3's `aws-chunked` upload bodies (the AWS SDK's default for streamed bodies
 * with a trailing checksum), verifying chunk signatures and the trailing checksum, so the
 * S3 emulator behind the gate stores the object bytes and not the framing.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AwsAuthError, EMPTY_SHA256, sha256Hex, signString, signaturesEqual } from '../shared/sigv4';

/** The x-amz-content-sha256 values that announce an aws-chunked body. */
export const STREAMING_PAYLOADS = new Set([
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
]);

/** What checking chunk signatures needs; absent for unsigned chunks. */
export interface ChunkSigning {
  readonly key: Buffer;
  readonly amzDate: string;
  readonly scope: string;
  /** The request's own signature, which seeds the chain. */
  readonly seedSignature: string;
}

/** The decoded payload and the trailing headers that came with it. */
export interface DecodedChunks {
  readonly payload: Buffer;
  readonly trailers: ReadonlyMap<string, string>;
}

function incomplete(): AwsAuthError {
  return new AwsAuthError(400, 'IncompleteBody', 'The request body terminated unexpectedly');
}

function readLine(body: Buffer, start: number): { line: string; next: number } {
  const end = body.indexOf('\r\n', start, 'latin1');
  if (end === -1) throw incomplete();
  return { line: body.toString('latin1', start, end), next: end + 2 };
}

/**
 * Decodes an aws-chunked body. With `signing`, every chunk signature (and the trailer
 * signature, for the -TRAILER variant) must chain from the seed signature.
 */
export function decodeAwsChunked(body: Buffer, signing: ChunkSigning | undefined, withTrailer: boolean): DecodedChunks {
  const parts: Buffer[] = [];
  let offset = 0;
  let previous = signing?.seedSignature ?? '';
  for (;;) {
    const { line, next } = readLine(body, offset);
    const [sizeText, ...extensions] = line.split(';');
    if (!sizeText || !/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw incomplete();
    const size = Number.parseInt(sizeText, 16);
    const data = body.subarray(next, next + size);
    if (data.length !== size) throw incomplete();
    if (signing) {
      const provided = extensions.find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length) ?? '';
      const stringToSign = [
        'AWS4-HMAC-SHA256-PAYLOAD',
        signing.amzDate,
        signing.scope,
        previous,
        EMPTY_SHA256,
        sha256Hex(data),
      ].join('\n');
      const expected = signString(signing.key, stringToSign);
      if (!signaturesEqual(expected, provided)) {
        throw new AwsAuthError(
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        );
      }
      previous = expected;
    }
    parts.push(data);
    offset = next + size;
    if (size === 0) break;
    if (body.toString('latin1', offset, offset + 2) !== '\r\n') throw incomplete();
    offset += 2;
  }
  const trailers = new Map<string, string>();
  let trailerSignature: string | undefined;
  let trailerText = '';
  if (withTrailer) {
    for (;;) {
      const { line, next } = readLine(body, offset);
      offset = next;
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon <= 0) throw incomplete();
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') trailerSignature = value;
      else {
        trailers.set(name, value);
        trailerText += `${name}:${value}\n`;
      }
    }
    if (signing) {
      const stringToSign = [
        'AWS4-HMAC-SHA256-TRAILER',
        signing.amzDate,
        signing.scope,
        previous,
        sha256Hex(trailerText),
      ].join('\n');
      if (!signaturesEqual(signString(signing.key, stringToSign), trailerSignature ?? '')) {
        throw new AwsAuthError(
          403,
          'SignatureDoesNotMatch',
          'The trailer signature we calculated does not match the signature you provided.',
        );
      }
    }
  } else if (body.length > offset && body.toString('latin1', offset) !== '\r\n') {
    throw incomplete();
  }
  return { payload: Buffer.concat(parts), trailers };
}

/**
 * Checks any x-amz-checksum-* value (header or trailer) that the sandbox can compute:
 * CRC32, SHA-1 and SHA-256. CRC32C and CRC64NVME are passed through unchecked.
 */
// Lookup tables of the two reflected CRCs S3 offers beyond node:zlib's CRC-32.
const CRC32C_TABLE = Array.from({ length: 256 }, (_, index) => {
  let value = index;
  for (let bit = 0; bit < 8; bit++) value = value & 1 ? (value >>> 1) ^ 0x82f63b78 : value >>> 1;
  return value >>> 0;
});
const CRC64NVME_TABLE = Array.from({ length: 256 }, (_, index) => {
  let value = BigInt(index);
  for (let bit = 0; bit < 8; bit++) value = value & 1n ? (value >> 1n) ^ 0x9a6c9329ac4bc9b5n : value >> 1n;
  return value;
});
const MASK64 = 0xffffffffffffffffn;

/** CRC-32C (Castagnoli), as S3's x-amz-checksum-crc32c: 4 bytes, big-endian. */
export function crc32c(payload: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of payload) crc = ((CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8)) >>> 0;
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return digest;
}

/** CRC-64/NVME, as S3's x-amz-checksum-crc64nvme: 8 bytes, big-endian. */
export function crc64nvme(payload: Buffer): Buffer {
  let crc = MASK64;
  for (const byte of payload) crc = (CRC64NVME_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)] ?? 0n) ^ (crc >> 8n);
  const digest = Buffer.alloc(8);
  digest.writeBigUInt64BE(crc ^ MASK64);
  return digest;
}

export function verifyChecksums(payload: Buffer, values: ReadonlyMap<string, string>): void {
  for (const [name, provided] of values) {
    let actual: string | undefined;
    if (name === 'x-amz-checksum-crc32') {
      const digest = Buffer.alloc(4);
      digest.writeUInt32BE(crc32(payload) >>> 0);
      actual = digest.toString('base64');
    } else if (name === 'x-amz-checksum-crc32c') actual = crc32c(payload).toString('base64');
    else if (name === 'x-amz-checksum-crc64nvme') actual = crc64nvme(payload).toString('base64');
    else if (name === 'x-amz-checksum-sha1') actual = createHash('sha1').update(payload).digest('base64');
    else if (name === 'x-amz-checksum-sha256') actual = createHash('sha256').update(payload).digest('base64');
    if (actual !== undefined && actual !== provided) {
      throw new AwsAuthError(
        400,
        'BadDigest',
        `The ${name.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
  }
}
