/**
 * Security events: the kinds, where a request came from, the trail's port, and the one
 * recorder every capability writes through.
 */
import { randomUUID } from 'node:crypto';
import type { Username } from './identity';
import { USER_AGENT_MAX_CHARACTERS } from '../contract/limits';
import type { Clock } from './clock';
import type { TvmConfig } from './config';
import { BackendUnavailableError } from './errors';

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
  // Second factors (lambda/second-factor): every change and every failure.
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
  // Self-service deletion (accounts/account-deletion.ts): the request; `deleted` follows when it completes.
  'deletion_requested',
  // Sharing (lambda/sharing): a share's life in its owner's trail, its use and its end in both parties'.
  'share_created',
  'share_revoked',
  'share_left',
  'share_used',
  // Share links, in the owner's trail; the details name a short prefix of the id, never the id.
  'link_created',
  'link_revoked',
  'link_opened',
  // Sign-in with a provider (lambda/identities): details name the provider and the link id, never a token.
  'oidc_login',
  'oidc_registered',
  'oidc_failed',
  'identity_linked',
  'identity_unlinked',
  // Sign-up control (lambda/signup): the invite an account was created with (its id, never the code).
  'invite_used',
  // A vend (/token) that did not deliver credentials, rewritten over the `token_issued` entry
  // written alongside AssumeRole (details.reason says why): the trail never claims a vend that did not happen.
  'token_failed',
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

/** The per-user audit trail. */
export interface AuditTrail {
  /**
   * Stores one event; it expires after `expiresAt` (epoch ms). With `entryId` (unique, chosen by
   * the caller) the entry's key is fixed by the event's `at` and that id, so recording again
   * with the same `at` and id replaces the entry instead of adding one.
   */
  record(event: AuditEvent, expiresAt: number, entryId?: string): Promise<void>;
  /** A user's events, newest first, at most `limit`. */
  list(username: Username, limit: number): Promise<AuditEvent[]>;
  /**
   * Sends the same write as {@link record} but stores nothing (a conditional write whose
   * condition cannot hold). Used for names never registered, so they cost the same backend
   * work as registered ones and leave no item behind.
   */
  recordNothing(event: AuditEvent, expiresAt: number): Promise<void>;
}

/** Where the domain logic reports what it did; adapters send it to structured logs. */
export interface DomainLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** One audit entry that can be rewritten under the same key (see {@link AuditRecorder.entry}). */
export interface AuditEntry {
  /** Writes the entry as first described. */
  write(): Promise<void>;
  /** Replaces the entry: same key and time, another type, details merged over the first. */
  rewrite(type: AuditEventType, details?: Record<string, string | number>): Promise<void>;
}

/** What {@link AuditRecorder} needs. */
export interface AuditRecorderDependencies {
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly log: DomainLog;
  readonly config: Pick<TvmConfig, 'auditRetentionDays'>;
}

/**
 * Records security events: always as a structured log line, and in the user's audit trail.
 * A failed trail write does not fail the request (the event is already in the logs, which
 * are the record of last resort); it is logged as an error with the whole event.
 */
export class AuditRecorder {
  constructor(private readonly deps: AuditRecorderDependencies) {}

  async record(
    type: AuditEventType,
    username: Username,
    origin: RequestOrigin,
    details?: Record<string, string | number>,
  ): Promise<void> {
    const { audit, log } = this.deps;
    const { event, expiresAt } = this.event(type, username, origin, details);
    log.info(`audit: ${type}`, { username, audit: event });
    try {
      await audit.record(event, expiresAt);
    } catch (error) {
      log.error('Audit trail write failed; the event above is the record', {
        audit: event,
        cause: error instanceof BackendUnavailableError ? error.backend : 'unknown',
      });
    }
  }

  /**
   * An event whose entry may be rewritten once the outcome is known: /token writes
   * `token_issued` alongside AssumeRole (no stage of its own) and, if no credentials were
   * delivered after all, rewrites the same entry as `token_failed`. Nothing is written until
   * `write`; neither `write` nor `rewrite` throws (a failed trail write is logged, as in {@link record}).
   */
  entry(
    type: AuditEventType,
    username: Username,
    origin: RequestOrigin,
    details?: Record<string, string | number>,
  ): AuditEntry {
    const first = this.event(type, username, origin, details);
    const entryId = randomUUID();
    const store = async (event: AuditEvent) => {
      this.deps.log.info(`audit: ${event.type}`, { username, audit: event });
      try {
        await this.deps.audit.record(event, first.expiresAt, entryId);
      } catch (error) {
        this.deps.log.error('Audit trail write failed; the event above is the record', {
          audit: event,
          cause: error instanceof BackendUnavailableError ? error.backend : 'unknown',
        });
      }
    };
    return {
      write: () => store(first.event),
      rewrite: (nextType, nextDetails) =>
        store({ ...first.event, type: nextType, details: { ...first.event.details, ...nextDetails } }),
    };
  }

  /**
   * An event about a name nobody registered: a log line only, no audit item (anyone could
   * otherwise create items under any name). The same write is sent and refused by its
   * condition, so the backend work, and the time, match a registered name's.
   */
  async recordUnregistered(
    type: AuditEventType,
    username: Username,
    origin: RequestOrigin,
    details?: Record<string, string | number>,
  ): Promise<void> {
    const { event, expiresAt } = this.event(type, username, origin, details);
    this.deps.log.info(`unregistered name: ${type}`, { username, event });
    await this.deps.audit.recordNothing(event, expiresAt).catch(() => undefined);
  }

  private event(
    type: AuditEventType,
    username: Username,
    origin: RequestOrigin,
    details?: Record<string, string | number>,
  ) {
    const at = this.deps.clock.now();
    const event: AuditEvent = { username, type, at, ...origin, ...(details ? { details } : {}) };
    return { event, expiresAt: at + this.deps.config.auditRetentionDays * 86_400_000 };
  }
}
