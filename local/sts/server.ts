/**
 * A local STS for the sandbox: the AssumeRole (and GetCallerIdentity) query API with AWS's
 * XML responses and error codes. It verifies the caller's SigV4 signature; AssumeRole
 * (assume-role.ts) validates the parameters as AWS documents them and issues `ASIA...`
 * credentials; each session is remembered in a {@link SessionStore} for the S3 gate.
 */
import { readBody } from '../shared/http-body';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../shared/listen';
import { SANDBOX_ACCOUNT_ID, SANDBOX_FUNCTION_ROLE_ARN, SANDBOX_REGION } from '../names';
import type { LongTermKey } from '../secrets';
import type { SessionStore } from './session-store';
import { AwsAuthError, parseQuery, sha256Hex, verifySignature, wireRequest } from '../shared/sigv4';
import { checkClaimScopeAndTime, readSignatureClaim } from '../shared/sigv4-claim';
import { escapeXml, xmlElements } from '../shared/xml';
import { DEFAULT_ASSUME_ROLE_RATE, RateBucket } from './rate';

import {
  MAX_FORM_BYTES,
  STS_NAMESPACE,
  STS_VERSION,
  StsError,
  assumeRole,
  assumeRoleXml,
  errorXml,
} from './assume-role';

/** Who signed a request: the function's long-term key, or a session this STS issued. */
interface Caller {
  readonly arn: string;
  readonly userId: string;
  readonly kind: 'function' | 'session';
}

/** Options of {@link createStsServer}. */
export interface StsServerOptions {
  readonly sessions: SessionStore;
  /** The functions' long-term key (random per data folder): the only caller AssumeRole accepts. */
  readonly functionKey: LongTermKey;
  /** The clock, injectable for tests. */
  readonly now?: () => number;
  /**
   * AssumeRole calls per second across every caller, as AWS's account-wide quota; more answer
   * `Throttling` (400, Sender, "Rate exceeded"). Default {@link DEFAULT_ASSUME_ROLE_RATE}.
   */
  readonly assumeRoleRate?: number;
}

/** Authenticates a request by its SigV4 signature, as STS does before anything else. */
function authenticate(
  req: IncomingMessage,
  body: Buffer,
  { sessions, functionKey }: StsServerOptions,
  now: number,
): Caller {
  const wire = wireRequest(req);
  let query: [string, string][];
  try {
    query = parseQuery(wire.rawQuery);
  } catch {
    throw new StsError(400, 'MalformedQueryString', 'The query string is malformed.');
  }
  let claim;
  try {
    claim = readSignatureClaim(wire, query);
  } catch (error) {
    if (error instanceof AwsAuthError) throw new StsError(400, 'IncompleteSignature', error.message);
    throw error;
  }
  if (!claim) throw new StsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  try {
    checkClaimScopeAndTime(claim, { region: SANDBOX_REGION, service: 'sts' }, now);
  } catch (error) {
    if (error instanceof AwsAuthError) {
      const code = error.code === 'RequestTimeTooSkewed' ? 'SignatureDoesNotMatch' : 'IncompleteSignature';
      throw new StsError(error.status === 400 ? 400 : 403, code, error.message);
    }
    throw error;
  }
  let secret: string;
  let caller: Caller;
  if (claim.accessKeyId === functionKey.accessKeyId && claim.securityToken === undefined) {
    secret = functionKey.secretAccessKey;
    caller = { arn: SANDBOX_FUNCTION_ROLE_ARN, userId: 'AROAQSANDBOXFUNCTION1:sandbox', kind: 'function' };
  } else {
    const session = sessions.get(claim.accessKeyId);
    if (!session || claim.securityToken !== session.sessionToken) {
      throw new StsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    if (now >= session.expiresAt)
      throw new StsError(400, 'ExpiredToken', 'The security token included in the request is expired');
    secret = session.secretAccessKey;
    caller = { arn: session.assumedRoleArn, userId: session.assumedRoleId, kind: 'session' };
  }
  const payloadHash = claim.kind === 'query' ? 'UNSIGNED-PAYLOAD' : sha256Hex(body);
  try {
    verifySignature(wire, query, claim, payloadHash, secret);
  } catch (error) {
    if (error instanceof AwsAuthError) {
      throw new StsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
    throw error;
  }
  if (claim.contentSha256 !== undefined && claim.kind === 'header' && claim.contentSha256 !== payloadHash) {
    throw new StsError(
      400,
      'SignatureDoesNotMatch',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }
  return caller;
}

/**
 * The STS request handler. Exported for tests; {@link startSts} wraps it in a server.
 */
export function createStsHandler(options: StsServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = options.now ?? Date.now;
  const assumeRoleBucket = new RateBucket(options.assumeRoleRate ?? DEFAULT_ASSUME_ROLE_RATE, now());
  return (req, res) => {
    const requestId = randomUUID();
    const send = (status: number, xml: string) => {
      res.writeHead(status, {
        'Content-Type': 'text/xml',
        'x-amzn-RequestId': requestId,
        'Content-Length': Buffer.byteLength(xml),
      });
      res.end(xml);
    };
    void (async () => {
      try {
        if (req.method !== 'POST' && req.method !== 'GET')
          throw new StsError(405, 'InvalidAction', 'STS accepts GET and POST only.');
        const body = await readBody(
          req,
          MAX_FORM_BYTES,
          () => new StsError(413, 'RequestEntityTooLarge', 'The request is too large.'),
        );
        const at = now();
        const caller = authenticate(req, body, options, at);
        const params = new Map<string, string>();
        const queryStart = (req.url ?? '').indexOf('?');
        for (const [name, value] of new URLSearchParams(queryStart === -1 ? '' : (req.url ?? '').slice(queryStart + 1)))
          params.set(name, value);
        for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params.set(name, value);
        const action = params.get('Action');
        if (action === undefined) throw new StsError(400, 'MissingAction', 'Missing Action');
        if (params.get('Version') !== STS_VERSION)
          throw new StsError(
            400,
            'InvalidAction',
            `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
          );
        if (action === 'AssumeRole') {
          if (caller.kind !== 'function') {
            throw new StsError(
              403,
              'AccessDenied',
              `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.get('RoleArn') ?? ''}`,
            );
          }
          // The quota is checked once the caller is known, as AWS counts authenticated calls.
          if (!assumeRoleBucket.take(at)) throw new StsError(400, 'Throttling', 'Rate exceeded');
          const { session, packedPercent } = assumeRole(params, caller.arn, at);
          options.sessions.add(session);
          send(200, assumeRoleXml(session, packedPercent, requestId));
        } else if (action === 'GetCallerIdentity') {
          send(
            200,
            `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}"><GetCallerIdentityResult>` +
              xmlElements({ Arn: caller.arn, UserId: caller.userId, Account: SANDBOX_ACCOUNT_ID }) +
              `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
          );
        } else {
          throw new StsError(
            400,
            'InvalidAction',
            `Could not find operation ${escapeXml(action)} for version ${STS_VERSION}`,
          );
        }
      } catch (error) {
        const stsError =
          error instanceof StsError
            ? error
            : new StsError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.');
        if (!(error instanceof StsError)) console.error('[sandbox sts] unexpected error', error);
        if (!res.headersSent) send(stsError.status, errorXml(stsError, requestId));
      }
    })();
  };
}

/** Starts the local STS on a loopback port (0 = any free port). */
export async function startSts(
  options: StsServerOptions & { port?: number },
): Promise<{ server: Server; url: string }> {
  const server = createServer(createStsHandler(options));
  const port = await listenOnLoopback(server, options.port ?? 0);
  return { server, url: `http://127.0.0.1:${port}` };
}
