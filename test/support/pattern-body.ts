/**
 * Large test files without holding them: block `i` (1 MiB) is one random block with `i` in its
 * first eight bytes, so every block differs and a part stored out of order shows. The same
 * function rebuilds any byte range, to check a download byte for byte as it streams in.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export const BLOCK_BYTES = 1024 * 1024;

export interface PatternBody {
  readonly sizeBytes: number;
  /** The random block every block is made from (to rebuild the same body elsewhere, e.g. in a page). */
  readonly base: Buffer;
  /** A fresh stream of the whole body, made block by block. */
  stream(): Readable;
  /** The expected bytes at [offset, offset + length). */
  bytesAt(offset: number, length: number): Buffer;
}

export function patternBody(sizeBytes: number, base: Buffer = randomBytes(BLOCK_BYTES)): PatternBody {
  const block = (index: number): Buffer => {
    const copy = Buffer.from(base);
    copy.writeBigUInt64BE(BigInt(index), 0);
    return copy;
  };
  const bytesAt = (offset: number, length: number): Buffer => {
    const parts: Buffer[] = [];
    for (let at = offset; at < offset + length; ) {
      const index = Math.floor(at / BLOCK_BYTES);
      const start = at - index * BLOCK_BYTES;
      const take = Math.min(BLOCK_BYTES - start, offset + length - at);
      parts.push(block(index).subarray(start, start + take));
      at += take;
    }
    return Buffer.concat(parts);
  };
  return {
    sizeBytes,
    base,
    bytesAt,
    stream: () => {
      let offset = 0;
      return new Readable({
        read() {
          if (offset >= sizeBytes) {
            this.push(null);
            return;
          }
          const length = Math.min(BLOCK_BYTES, sizeBytes - offset);
          this.push(bytesAt(offset, length));
          offset += length;
        },
      });
    },
  };
}

/**
 * Reads `body` to its end, comparing every chunk with the pattern at its offset. Resolves the
 * number of bytes read; rejects at the first byte that differs. Nothing is held beyond a chunk.
 */
export async function expectPatternStream(body: AsyncIterable<Uint8Array>, pattern: PatternBody): Promise<number> {
  let offset = 0;
  for await (const chunk of body) {
    const expected = pattern.bytesAt(offset, chunk.byteLength);
    if (Buffer.compare(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), expected) !== 0) {
      throw new Error(`the download differs from the upload within bytes ${offset}..${offset + chunk.byteLength}`);
    }
    offset += chunk.byteLength;
  }
  return offset;
}
