/**
 * The part of IAM the TVM's operator uses: PutRolePolicy, GetRolePolicy and DeleteRolePolicy
 * on the vending role (tvm-admin's credential cut-off), over IAM's query API with its XML
 * shapes and error codes. Only the operator's key may call it, with a valid SigV4 signature.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { policyCharacters, ROLE_INLINE_POLICY_MAX_CHARACTERS } from '../../lambda/credentials/revocation';
import type { PolicyDocument } from '../../policies';
import { SANDBOX_VENDING_ROLE_NAME } from '../names';
import type { InlineRolePolicy, RolePolicyStore } from './role-policies';
import type { LongTermKey } from '../secrets';
import { authenticateLongTermKey, ServiceAuthError } from '../shared/service-auth';
import { readBody } from '../shared/http-body';
import { listenOnLoopback } from '../shared/listen';
import { xmlElements } from '../shared/xml';

const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
const IAM_VERSION = '2010-05-08';
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

class IamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** IAM's answer to a request the operator's key did not sign (a user's vended credentials get AccessDenied, as their session policy denies iam:*). */
function authenticate(req: IncomingMessage, body: Buffer, operatorKey: LongTermKey, now: number): void {
  try {
    authenticateLongTermKey(req, body, 'iam', [operatorKey], now);
  } catch (error) {
    if (!(error instanceof ServiceAuthError)) throw error;
    const [status, code] = (
      {
        missing: [403, 'MissingAuthenticationToken'],
        malformed: [403, 'IncompleteSignature'],
        'temporary-key': [403, 'AccessDenied'],
        'unknown-key': [403, 'InvalidClientTokenId'],
        signature: [403, 'SignatureDoesNotMatch'],
      } as const
    )[error.reason];
    throw new IamError(status, code, error.message);
  }
}

function roleAndPolicy(params: URLSearchParams): { policyName: string } {
  const roleName = params.get('RoleName') ?? '';
  const policyName = params.get('PolicyName') ?? '';
  if (roleName !== SANDBOX_VENDING_ROLE_NAME)
    throw new IamError(404, 'NoSuchEntity', `The role with name ${roleName} cannot be found.`);
  if (!POLICY_NAME.test(policyName))
    throw new IamError(400, 'ValidationError', 'The specified value for policyName is invalid.');
  return { policyName };
}

function parsePolicy(text: string): PolicyDocument {
  let policy: PolicyDocument;
  try {
    policy = JSON.parse(text) as PolicyDocument;
  } catch {
    throw new IamError(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  if (policy?.Version !== '2012-10-17' || !Array.isArray(policy.Statement) || policy.Statement.length === 0) {
    throw new IamError(
      400,
      'MalformedPolicyDocument',
      'The policy needs Version 2012-10-17 and at least one statement.',
    );
  }
  return policy;
}

/**
 * IAM's quota on the aggregate size of a role's inline policies, whitespace not counted: the
 * role's own policy, every other inline policy, and the one being put (replacing its
 * namesake). IAM answers 409 LimitExceeded.
 */
function checkAggregateSize(
  policyName: string,
  text: string,
  ownPolicies: readonly InlineRolePolicy[],
  store: RolePolicyStore,
): void {
  const others = [...ownPolicies, ...store.all()].filter((entry) => entry.name !== policyName);
  const total = others.reduce((sum, entry) => sum + policyCharacters(entry.policy), 0) + policyCharacters(text);
  if (total > ROLE_INLINE_POLICY_MAX_CHARACTERS) {
    throw new IamError(
      409,
      'LimitExceeded',
      `Maximum policy size of ${ROLE_INLINE_POLICY_MAX_CHARACTERS} bytes exceeded for role ${SANDBOX_VENDING_ROLE_NAME}`,
    );
  }
}

/** How the IAM policy engine judged one kind of policy for a request. */
export type PolicyVerdict = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | string;

/**
 * The end of AWS's AccessDenied message for a request a role session made, worded as IAM
 * words it ("User: ... is not authorized to perform: <action> on resource: <resource> ..."):
 * an explicit deny names the kind of policy that holds it ("with an explicit deny in an
 * identity-based policy": the vending role's own inline policies, the credential cut-off
 * among them), otherwise the kind of policy that allows nothing ("because no session policy
 * allows the <action> action"). Explicit denies come first, as IAM evaluates them first.
 */
export function accessDeniedReason(
  action: string,
  verdicts: { readonly identity?: PolicyVerdict; readonly session?: PolicyVerdict },
): string {
  if (verdicts.identity === 'ExplicitlyDenied') return 'with an explicit deny in an identity-based policy';
  if (verdicts.session === 'ExplicitlyDenied') return 'with an explicit deny in a session policy';
  if (verdicts.identity !== undefined && verdicts.identity !== 'Allowed')
    return `because no identity-based policy allows the ${action} action`;
  return `because no session policy allows the ${action} action`;
}

/** Starts the local IAM on a loopback port (0 = any free port). */
export async function startIam(options: {
  policies: RolePolicyStore;
  operatorKey: LongTermKey;
  /** The role's own inline policies (FileBucketAccess), which count against the size quota too. */
  ownPolicies?: readonly InlineRolePolicy[];
  port?: number;
  now?: () => number;
}): Promise<{ server: Server; url: string }> {
  const now = options.now ?? Date.now;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': requestId });
      res.end(xml);
    };
    const respond = (action: string, result = '') =>
      send(
        200,
        `<${action}Response xmlns="${IAM_NAMESPACE}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    void (async () => {
      try {
        const body = await readBody(
          req,
          64 * 1024,
          () => new IamError(413, 'RequestEntityTooLarge', 'The request is too large.'),
        );
        authenticate(req, body, options.operatorKey, now());
        const params = new URLSearchParams(body.toString('utf8'));
        const action = params.get('Action') ?? '';
        if (params.get('Version') !== IAM_VERSION)
          throw new IamError(400, 'InvalidAction', `Could not find operation ${action}.`);
        const { policyName } = roleAndPolicy(params);
        if (action === 'PutRolePolicy') {
          const text = params.get('PolicyDocument') ?? '';
          const policy = parsePolicy(text);
          checkAggregateSize(policyName, text, options.ownPolicies ?? [], options.policies);
          options.policies.put(policyName, policy);
          respond(action);
        } else if (action === 'GetRolePolicy') {
          const policy = options.policies.get(policyName);
          if (!policy)
            throw new IamError(404, 'NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
          // IAM returns the document URL-encoded.
          const fields = xmlElements({
            RoleName: SANDBOX_VENDING_ROLE_NAME,
            PolicyName: policyName,
            PolicyDocument: encodeURIComponent(JSON.stringify(policy)),
          });
          respond(action, `<GetRolePolicyResult>${fields}</GetRolePolicyResult>`);
        } else if (action === 'DeleteRolePolicy') {
          if (!options.policies.delete(policyName))
            throw new IamError(404, 'NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
          respond(action);
        } else {
          throw new IamError(400, 'InvalidAction', `Could not find operation ${action} in the sandbox's IAM.`);
        }
      } catch (error) {
        const iamError =
          error instanceof IamError
            ? error
            : new IamError(500, 'ServiceFailure', 'The request processing has failed because of an unknown error.');
        const type = iamError.status >= 500 ? 'Receiver' : 'Sender';
        send(
          iamError.status,
          `<ErrorResponse xmlns="${IAM_NAMESPACE}"><Error><Type>${type}</Type>${xmlElements({ Code: iamError.code, Message: iamError.message })}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      }
    })();
  });
  const port = await listenOnLoopback(server, options.port ?? 0);
  return { server, url: `http://127.0.0.1:${port}` };
}
