/**
 * A browser POST upload (a form with a POST policy, signed in its body rather than its
 * headers) through the same stages as any request: the form read with busboy and its policy's
 * signature and conditions checked (post-upload.ts), the PutObject it amounts to authorised
 * with IAM like any other, rebuilt and stored through the emulator; answered as S3 answers
 * (204 by default, or the form's success_action_status).
 */
import { request as httpRequest } from 'node:http';
import { SANDBOX_REGION } from '../names';
import { AwsAuthError, type SignatureClaim } from '../shared/sigv4';
import { xmlElements } from '../shared/xml';
import type { StsSession } from '../sts/session-store';
import { signerOf, type GateCredentials } from './authenticate';
import { authoriseChecks, requestContext, type GatePolicies } from './authorise';
import { MAX_GATE_BODY_BYTES, emulatorUnavailable, entityTooLarge, type Exchange } from './exchange';
import type { ForwardTo } from './forward';
import { describeS3Operation } from './operations';
import { parsePostForm, readPostClaim, verifyPostPolicy } from './post-upload';
import { assertRepresentableKey, type ParsedS3Request } from './request';
import { canonicalObjectPath, forwardedHeaders } from './rebuild';
import { requesterArn } from './request-record';

/** Whether a parsed request is a browser POST upload: a form POSTed to the bucket itself. */
export function isPostUpload(
  parsed: ParsedS3Request,
  contentType: string | undefined,
): parsed is ParsedS3Request & { bucket: string } {
  return (
    parsed.method === 'POST' &&
    parsed.bucket !== undefined &&
    parsed.key === undefined &&
    parsed.queryPairs.length === 0 &&
    /^multipart\/form-data\s*;/i.test(contentType ?? '')
  );
}

/** Carries out a browser POST upload to `bucket`. */
export async function postObject(
  exchange: Exchange,
  bucket: string,
  gate: GateCredentials & GatePolicies & ForwardTo,
): Promise<void> {
  const { req, res, requestId, now } = exchange;
  exchange.resource = `/${bucket}`;
  exchange.record.bucket = bucket;
  // Parse: the file, plus room for the form's fields and multipart framing.
  const body = await exchange.read(MAX_GATE_BODY_BYTES + 64 * 1024, entityTooLarge);
  const form = await parsePostForm(body, req.headers['content-type'] ?? '', MAX_GATE_BODY_BYTES);
  // Authenticate: the form's credential, and its policy signed with that credential's secret.
  const claimed = readPostClaim(form, SANDBOX_REGION);
  const { principal, secretAccessKey } = signerOf(claimed.accessKeyId, claimed.securityToken, gate, now);
  exchange.record.requester = requesterArn(principal);
  exchange.record.authType = 'POST';
  const upload = verifyPostPolicy(form, bucket, secretAccessKey, SANDBOX_REGION, now);
  if (upload.key === '') throw new AwsAuthError(400, 'InvalidArgument', 'User key must have a length greater than 0.');
  assertRepresentableKey(upload.key);
  // Authorise the PutObject the form amounts to, with its headers: the same checks as a signed PUT.
  const operation = describeS3Operation({
    method: 'PUT',
    bucket,
    key: upload.key,
    query: new Map(),
    header: (name) => upload.headers.get(name),
  });
  const context = (session: StsSession) => postContext(session, upload.accessKeyId, upload.amzDate, exchange);
  await authoriseChecks(operation.checks, principal, context, gate, ' (POST upload)');
  Object.assign(exchange.record, { operation: 'PostObject', key: upload.key, objectSize: form.file.data.length });
  // Rebuild and forward.
  const target = canonicalObjectPath(bucket, upload.key);
  gate.onForward?.({ operation: 'PostObject', bucket, key: upload.key, target });
  const payload = form.file.data;
  const headers = forwardedHeaders({ headers: upload.headers }, undefined, payload.length);
  await new Promise<void>((resolve) => {
    const outgoing = httpRequest(
      { socketPath: gate.upstream.socketPath, method: 'PUT', path: target, headers, agent: gate.upstream.agent },
      (answer) => {
        if (answer.statusCode !== 200) {
          // The emulator's own refusal, passed on as the forward stage passes it on.
          res.writeHead(answer.statusCode ?? 502, {
            'Content-Type': 'application/xml',
            'x-amz-request-id': requestId,
            ...exchange.cors,
          });
          answer.pipe(res);
          answer.on('end', resolve);
          return;
        }
        answer.resume();
        const etag = String(answer.headers.etag ?? '');
        exchange.record.eTag = etag;
        const location = `/${bucket}/${upload.key.split('/').map(encodeURIComponent).join('/')}`;
        const xml =
          upload.successStatus === 201
            ? `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>${xmlElements({ Location: location, Bucket: bucket, Key: upload.key, ETag: etag })}</PostResponse>`
            : '';
        res.writeHead(upload.successStatus, {
          'x-amz-request-id': requestId,
          ETag: etag,
          Location: location,
          'Content-Length': String(Buffer.byteLength(xml)),
          ...(xml ? { 'Content-Type': 'application/xml' } : {}),
          ...exchange.cors,
        });
        res.end(xml);
        resolve();
      },
    );
    outgoing.on('error', () => {
      exchange.sendError(emulatorUnavailable(), `/${bucket}/${upload.key}`);
      resolve();
    });
    outgoing.end(payload);
  });
}

/** The request context of a POST upload: as for a signed request, authorised as S3's POST auth type. */
function postContext(
  session: StsSession,
  accessKeyId: string,
  amzDate: string,
  exchange: Exchange,
): Record<string, string> {
  const claim: SignatureClaim = {
    kind: 'header',
    accessKeyId,
    scopeDate: amzDate.slice(0, 8),
    region: SANDBOX_REGION,
    service: 's3',
    amzDate,
    signedHeaders: [],
    signature: '',
  };
  return { ...requestContext(session, claim, exchange.req, exchange.now), 's3:authType': 'POST' };
}
