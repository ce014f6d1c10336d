import type { Username } from './username';
import { USER_AGENT_MAX_CHARACTERS } from '../contract/limits';

/** Every security event the TVM records per user. */
export const AUDIT_EVENT_TYPES = [
  'registered',
  'login_ok',
  'login_failed',
  'locked',
  'token_issued',
  'logout',
  'password_changed',
  'reset_issued',
  'reset_used',
  'session_revoked',
  'session_ended_over_cap',
  'disabled',
  'enabled',
  'unlocked',
  'deleted',
  'credentials_revoked',
  // Second factors (lambda/core/mfa): every change and every failure.
  'mfa_challenge',
  'mfa_failed',
  'mfa_locked',
  'recovery_code_used',
  'totp_pending',
  'totp_enrolled',
  'totp_removed',
  'passkey_added',
  'passkey_removed',
  'mfa_reset',
  // Self-service deletion (account-deletion.ts): the request; `deleted` follows when it completes.
  'deletion_requested',
] as const;

/** One kind of security event. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Where a request came from, as API Gateway reports it. */
export interface RequestOrigin {
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** An operator's command, when the event was not caused by an API request. */
export const OPERATOR_ORIGIN: RequestOrigin = { sourceIp: 'operator', userAgent: 'tvm-admin' };

/** The deletion worker finishing a deletion the user asked for (`DELETE /account`), not an operator. */
export const SELF_DELETION_ORIGIN: RequestOrigin = { sourceIp: 'deletion worker', userAgent: 'self-service deletion' };

/** One entry of a user's audit trail. */
export interface AuditEvent extends RequestOrigin {
  readonly username: Username;
  readonly type: AuditEventType;
  /** Epoch ms. */
  readonly at: number;
  /** Small, non-secret facts: a session id, an attempt number, a device label. */
  readonly details?: Readonly<Record<string, string | number>>;
}



/** Trims what a client sent about itself to something safe to store and log. */
export function requestOrigin(sourceIp: string | undefined, userAgent: string | undefined): RequestOrigin {
  const agent = userAgent?.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, USER_AGENT_MAX_CHARACTERS);
  return {
    ...(sourceIp ? { sourceIp: sourceIp.slice(0, 64) } : {}),
    ...(agent ? { userAgent: agent } : {}),
  };
}
