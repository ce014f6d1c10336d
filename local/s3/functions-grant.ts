/**
 * What the functions' key may do through the S3 gate: what the stack grants the functions'
 * execution roles in S3 that the sandbox runs through the gate. Today the access-log
 * processor's read of the log objects (lib/access-log-processing.ts grants the same:
 * s3:GetObject on `<log bucket>/file-bucket/*`). Nothing on the file bucket.
 */
import { ACCESS_LOG_PREFIX } from '../../lambda/usage/access-log';
import { SANDBOX_LOG_BUCKET } from '../names';
import type { AuthorisationCheck } from './checks';

/** Whether the functions' roles may make `check`. */
export function functionsS3Grant(check: AuthorisationCheck): boolean {
  return (
    check.action === 's3:GetObject' &&
    check.resource.startsWith(`arn:aws:s3:::${SANDBOX_LOG_BUCKET}/${ACCESS_LOG_PREFIX}`)
  );
}
