/**
 * Browser POST uploads (S3's POST Object with a POST policy, as `createPresignedPost` of
 * @aws-sdk/s3-presigned-post makes them): the multipart/form-data body is read with busboy,
 * the policy's SigV4 signature is verified, its expiration and every condition are enforced
 * as S3 enforces them, and what is left is a PutObject the gate authorises and stores like
 * any other.
 */
import busboy from 'busboy';
import { Readable } from 'node:stream';
import { AwsAuthError, signaturesEqual, signingKey, signString, SIGV4_ALGORITHM } from '../shared/sigv4';
import { parseAmzDate } from '../shared/sigv4-claim';

/** S3's limit on the form fields of a POST upload (everything but the file). */
const MAX_FORM_FIELD_BYTES = 20 * 1024;
const MAX_FORM_FIELDS = 100;

/** A POST upload form as read: fields by lower-case name (those before the file), and the file. */
export interface PostForm {
  readonly fields: ReadonlyMap<string, string>;
  readonly file: { readonly filename: string; readonly contentType: string; readonly data: Buffer };
}

function invalidPost(message: string): AwsAuthError {
  return new AwsAuthError(400, 'InvalidArgument', message);
}

function malformedPost(): AwsAuthError {
  return new AwsAuthError(
    400,
    'MalformedPOSTRequest',
    'The body of your POST request is not well-formed multipart/form-data.',
  );
}

/** Reads a multipart/form-data body with busboy; S3 ignores fields after the file, and so does this. */
export function parsePostForm(body: Buffer, contentType: string, maxFileBytes: number): Promise<PostForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: {
          fieldSize: MAX_FORM_FIELD_BYTES,
          fields: MAX_FORM_FIELDS,
          files: 1,
          fileSize: maxFileBytes,
          parts: MAX_FORM_FIELDS + 1,
        },
      });
    } catch {
      reject(malformedPost());
      return;
    }
    const fields = new Map<string, string>();
    let file: PostForm['file'] | undefined;
    let failure: AwsAuthError | undefined;
    const fail = (error: AwsAuthError) => (failure ??= error);
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated)
        fail(
          new AwsAuthError(
            400,
            'MaxPostPreDataLengthExceeded',
            'Your POST request fields preceding the upload file were too large.',
          ),
        );
      const lower = name.toLowerCase();
      if (file !== undefined) return;
      if (fields.has(lower)) fail(invalidPost(`The form field ${name} is given more than once.`));
      fields.set(lower, value);
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      if (name.toLowerCase() !== 'file')
        fail(invalidPost('POST requires exactly one file upload per request, in the field named file.'));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () =>
        fail(new AwsAuthError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.')),
      );
      stream.on('end', () => {
        file = { filename: info.filename ?? '', contentType: info.mimeType, data: Buffer.concat(chunks) };
      });
    });
    parser.on('filesLimit', () => fail(invalidPost('POST requires exactly one file upload per request.')));
    parser.on('fieldsLimit', () =>
      fail(
        new AwsAuthError(
          400,
          'MaxPostPreDataLengthExceeded',
          'Your POST request fields preceding the upload file were too large.',
        ),
      ),
    );
    parser.on('partsLimit', () =>
      fail(
        new AwsAuthError(
          400,
          'MaxPostPreDataLengthExceeded',
          'Your POST request fields preceding the upload file were too large.',
        ),
      ),
    );
    parser.on('error', () => reject(failure ?? malformedPost()));
    parser.on('close', () => {
      if (failure) reject(failure);
      else if (!file) reject(invalidPost('POST requires exactly one file upload per request.'));
      else resolve({ fields, file });
    });
    Readable.from([body]).pipe(parser);
  });
}

/** What a verified POST upload asks for. */
export interface PostUpload {
  readonly accessKeyId: string;
  readonly securityToken?: string;
  readonly amzDate: string;
  /** The key, `${filename}` filled in. */
  readonly key: string;
  /** The form fields that become request headers of the PutObject (content-type, x-amz-meta-*, acl, ...). */
  readonly headers: ReadonlyMap<string, string>;
  /** 200, 201 or 204 (S3's default). */
  readonly successStatus: 200 | 201 | 204;
}

/** Form fields S3 turns into the stored object's headers. */
const HEADER_FIELDS = new Set(['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'expires']);

const CREDENTIAL = /^([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/s3\/aws4_request$/;

function policyFailure(detail: string): AwsAuthError {
  return new AwsAuthError(403, 'AccessDenied', `Invalid according to Policy: ${detail}`);
}

/** Reads what the form claims (who signed, when, which key) before the secret is known. */
export function readPostClaim(
  form: PostForm,
  region: string,
): { accessKeyId: string; scopeDate: string; amzDate: string; securityToken?: string } {
  const field = (name: string) => form.fields.get(name);
  for (const required of ['key', 'policy', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
    if (field(required) === undefined)
      throw invalidPost(
        `Bucket POST must contain a field named '${required}'. If it is specified, please check the order of the fields.`,
      );
  }
  if (field('x-amz-algorithm') !== SIGV4_ALGORITHM)
    throw invalidPost(`The x-amz-algorithm field must be ${SIGV4_ALGORITHM}.`);
  const credential = CREDENTIAL.exec(field('x-amz-credential') ?? '');
  const amzDate = field('x-amz-date') ?? '';
  if (
    !credential ||
    credential[3] !== region ||
    Number.isNaN(parseAmzDate(amzDate)) ||
    amzDate.slice(0, 8) !== credential[2]
  ) {
    throw invalidPost('The x-amz-credential or x-amz-date field is malformed, or names another region or day.');
  }
  const securityToken = field('x-amz-security-token');
  return {
    accessKeyId: credential[1] as string,
    scopeDate: credential[2] as string,
    amzDate,
    ...(securityToken !== undefined ? { securityToken } : {}),
  };
}

type Condition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { kind: 'content-length-range'; min: number; max: number; text: string };

function readConditions(raw: unknown): Condition[] {
  if (!Array.isArray(raw)) throw invalidPost('Invalid Policy: Invalid JSON.');
  return raw.map((item: unknown): Condition => {
    const text = JSON.stringify(item);
    if (Array.isArray(item)) {
      const [op, a, b] = item as unknown[];
      if (
        typeof op === 'string' &&
        op.toLowerCase() === 'content-length-range' &&
        Number.isSafeInteger(a) &&
        Number.isSafeInteger(b) &&
        item.length === 3
      ) {
        return { kind: 'content-length-range', min: a as number, max: b as number, text };
      }
      if (
        typeof op === 'string' &&
        ['eq', 'starts-with'].includes(op.toLowerCase()) &&
        typeof a === 'string' &&
        a.startsWith('$') &&
        typeof b === 'string' &&
        item.length === 3
      ) {
        return { kind: op.toLowerCase() as 'eq' | 'starts-with', field: a.slice(1).toLowerCase(), value: b, text };
      }
    } else if (item !== null && typeof item === 'object' && Object.keys(item).length === 1) {
      const [[name, value]] = Object.entries(item as Record<string, unknown>) as [[string, unknown]];
      if (typeof value === 'string') return { kind: 'eq', field: name.toLowerCase(), value, text };
    }
    throw invalidPost(`Invalid Policy: Invalid Condition: ${text}`);
  });
}

/**
 * Verifies the policy's signature with the signer's secret and enforces the policy: not
 * expired, every condition met (the bucket counts as a field), and every form field (but
 * x-amz-signature, file, policy and x-ignore-*) named by a condition. S3's answers for each.
 */
export function verifyPostPolicy(
  form: PostForm,
  bucket: string,
  secretAccessKey: string,
  region: string,
  now: number,
): PostUpload {
  const claim = readPostClaim(form, region);
  const policy = form.fields.get('policy') ?? '';
  const key = signingKey(secretAccessKey, claim.scopeDate, region, 's3');
  if (!signaturesEqual(signString(key, policy), form.fields.get('x-amz-signature') ?? '')) {
    throw new AwsAuthError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  let document: { expiration?: unknown; conditions?: unknown };
  try {
    document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as typeof document;
  } catch {
    throw invalidPost('Invalid Policy: Invalid JSON.');
  }
  const expiration = typeof document.expiration === 'string' ? Date.parse(document.expiration) : Number.NaN;
  if (Number.isNaN(expiration)) throw invalidPost("Invalid Policy: Invalid 'expiration' value.");
  if (now > expiration) throw policyFailure('Policy expired.');
  const conditions = readConditions(document.conditions);

  const filename = form.file.filename;
  const values = new Map(form.fields);
  values.set('bucket', bucket);
  // S3 puts the file's name where the key says ${filename}.
  values.set('key', (form.fields.get('key') ?? '').split('${filename}').join(filename));
  const covered = new Set<string>();
  for (const condition of conditions) {
    if (condition.kind === 'content-length-range') {
      const size = form.file.data.length;
      if (size > condition.max)
        throw new AwsAuthError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
      if (size < condition.min)
        throw new AwsAuthError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
      continue;
    }
    covered.add(condition.field);
    const value = values.get(condition.field) ?? '';
    const met = condition.kind === 'eq' ? value === condition.value : value.startsWith(condition.value);
    if (!met) throw policyFailure(`Policy Condition failed: ${condition.text}`);
  }
  const extra = [...form.fields.keys()].filter(
    (name) =>
      !covered.has(name) && !['x-amz-signature', 'policy', 'file'].includes(name) && !name.startsWith('x-ignore-'),
  );
  if (extra.length > 0) throw policyFailure(`Extra input fields: ${extra.join(', ')}`);

  const status = form.fields.get('success_action_status');
  if (form.fields.has('success_action_redirect') || form.fields.has('redirect')) {
    throw new AwsAuthError(
      501,
      'NotImplemented',
      'A header or parameter you provided implies functionality that is not implemented: success_action_redirect',
    );
  }
  if (form.fields.has('tagging'))
    throw new AwsAuthError(
      501,
      'NotImplemented',
      'A header or parameter you provided implies functionality that is not implemented: tagging in a POST upload',
    );
  const headers = new Map<string, string>();
  for (const [name, value] of form.fields) {
    if (HEADER_FIELDS.has(name) || name.startsWith('x-amz-meta-')) headers.set(name, value);
    if (name === 'acl') headers.set('x-amz-acl', value);
    if (['x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-website-redirect-location'].includes(name))
      headers.set(name, value);
  }
  if (!headers.has('content-type') && form.file.contentType !== '') headers.set('content-type', form.file.contentType);
  return {
    accessKeyId: claim.accessKeyId,
    ...(claim.securityToken !== undefined ? { securityToken: claim.securityToken } : {}),
    amzDate: claim.amzDate,
    key: values.get('key') ?? '',
    headers,
    successStatus: status === '200' ? 200 : status === '201' ? 201 : 204,
  };
}
