/** The emulator's own answers (operations.ts, multipart.ts): S3's errors and XML, and reading a request. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeXml } from '../../shared/xml';

/** An S3 error answer. */
export class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const preconditionFailed = (condition: string) =>
  new S3Failure(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  });
export const malformedXml = () =>
  new S3Failure(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
export const invalidPart = () =>
  new S3Failure(
    400,
    'InvalidPart',
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  );
export const noSuchKey = (key: string) =>
  new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
export const noSuchUpload = (uploadId: string) =>
  new S3Failure(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );

/** The whole request body. */
export async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers S3's XML error. */
export function sendFailure(req: IncomingMessage, res: ServerResponse, failure: S3Failure): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    Object.entries({ Code: failure.code, Message: failure.message, ...failure.details })
      .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
      .join('') +
    '</Error>';
  res.writeHead(failure.status, {
    'Content-Type': 'application/xml',
    ...(req.method === 'HEAD' ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Answers 200 with an XML document. */
export function sendXml(res: ServerResponse, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** One request header (repeated values joined by a comma). */
export const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** Whether an If-Match / If-None-Match list names this ETag (quotes and weak marks ignored, `*` any). */
export function etagListMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return list.split(',').some((item) => {
    const candidate = item.trim().replace(/^W\//, '').replace(/"/g, '');
    return candidate === '*' || candidate === bare;
  });
}
