/**
 * The DynamoDB table's shape, shared by the stores, the CDK stack and the local sandbox: the
 * one description of the item layout, and the only module that spells a key.
 * Single-table design: every item has a string partition key and sort key.
 *
 * | item | pk | sk |
 * |---|---|---|
 * | user, or the hold on a deleted name (`heldUntil`) | `USER#<username>` | `PROFILE` |
 * | lockout counter, unknown devices | `USER#<username>` | `LOCKOUT` |
 * | lockout counter, one trusted device, session or reset | `USER#<username>` | `LOCKOUT#<scope>` |
 * | session | `SESSION#<sha256 of token>` | `SESSION` |
 * | reset code | `USER#<username>` | `RESET` |
 * | audit entry | `USER#<username>` | `AUDIT#<epoch ms, 13 digits>#<tick>#<random>` |
 * | second factors | `USER#<username>` | `MFA` |
 * | factor attempt counter, unknown devices | `USER#<username>` | `MFALOCK` |
 * | factor attempt counter, one trusted device, session or reset | `USER#<username>` | `MFALOCK#<scope>` |
 * | login challenge | `MFA#<sha256 of token>` | `CHALLENGE` |
 * | passkey owner | `PASSKEY#<credential id>` | `OWNER` |
 * | credential cut-off | `REVOCATIONS` | `USER#<username>` |
 * | revocation lock | `REVOCATIONS` | `LOCK` |
 * | share cut-off (`pending` until the worker has put it on the role) | `REVOCATIONS` | `SHARE#<share id>` |
 * | self-service deletion waiting for its worker | `DELETIONS` | `USER#<username>` |
 * | share (canonical record) | `USER#<owner>` | `SHARE#<share id>` |
 * | share received (pointer, believed only once the canonical record confirms it) | `USER#<grantee>` | `RECEIVED#<share id>` |
 * | share link (canonical record, what `GET /l/{id}` reads) | `LINK#<link id>` | `LINK` |
 * | share link in its owner's listing | `USER#<owner>` | `LINK#<link id>` |
 * | sign-in nonce (single use, `expiresAt`, TTL) | `OIDC_NONCE#<sha256 of nonce>` | `NONCE` |
 * | identity link (canonical record, keyed by issuer and subject) | `IDENTITY#<sha256 of issuer, subject>` | `LINK` |
 * | identity link in its account's listing (pointer, believed only once the canonical record confirms it) | `USER#<username>` | `IDENTITY#<identity id>` |
 * | storage meter totals (`bytes`, `objects`: current versions in the user's folder) | `USER#<username>` | `USAGE` |
 * | storage meter state of one object (size, last applied `sequencer`; a tombstone once removed) | `USER#<username>` | `OBJECT#<key within the folder>` |
 * | over-quota cut-off (writes denied to the folder on the vending role) | `REVOCATIONS` | `QUOTA#<username>` |
 * | invite (single use, `expiresAt`, TTL) | `INVITE#<sha256 of code>` | `INVITE` |
 * | one user's requests on one day, from the access logs | `USAGEDAY#<yyyy-mm-dd>` | `USER#<username>` |
 * | an access-log object already counted (TTL) | `ACCESSLOG#<sha256 of log object key>` | `DONE` |
 * | one user's vends in one minute (`count`, TTL) | `USER#<username>` | `VENDS#<minutes since the epoch>` |
 *
 * The user item also carries the owner's counts of shares given and links (`shareCount`,
 * `linkCount`), which bound them per owner (lambda/sharing/places.ts).
 *
 * Sessions also count their own vends per minute, in an attribute named by the minute
 * (`vends#<minutes since the epoch>`, {@link sessionVendsAttribute}).
 *
 * Sessions also carry `sessionOwner` (`USER#<username>`) and `createdAt`, the keys of the
 * `sessionsByOwner` index, which lists one user's sessions; the index projects ALL attributes.
 */
import { UNKNOWN_DEVICE_SCOPE, type LockoutScope } from '../../accounts/lockout';
import type { Username } from '../../accounts/username';

/** One item's primary key. */
export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

const userPartition = (username: Username) => `USER#${username}`;
/** A counter per scope; the unknown-device one keeps the bare sort key (counters written before scopes still count). */
const scoped = (base: string, scope: LockoutScope) => (scope === UNKNOWN_DEVICE_SCOPE ? base : `${base}#${scope}`);
/** The sort key prefix of audit entries. */
const AUDIT_PREFIX = 'AUDIT#';
/** The sort key prefixes of sharing's items in a user's partition (and of a link's own partition). */
const SHARE_PREFIX = 'SHARE#';
const RECEIVED_PREFIX = 'RECEIVED#';
const LINK_PREFIX = 'LINK#';
/** The sort key prefix of identity links in a user's partition. */
const IDENTITY_PREFIX = 'IDENTITY#';
/** The sort key prefix of the meter's object states in a user's partition. */
const OBJECT_PREFIX = 'OBJECT#';
/** The sort key prefix of one user's over-quota entry in the revocations partition. */
const QUOTA_LIST_ENTRY_PREFIX = 'QUOTA#';
/** The partition key prefix of one day's request counts. */
const USAGE_DAY_PREFIX = 'USAGEDAY#';
/** The sort key prefix of a user's per-minute vend counters. */
const USER_VENDS_PREFIX = 'VENDS#';
/** The prefix of the session attributes that count its vends per minute. */
const SESSION_VENDS_PREFIX = 'vends#';

/** The session attribute counting its vends in minute `window` (whole minutes since the epoch). */
export function sessionVendsAttribute(window: number): string {
  return `${SESSION_VENDS_PREFIX}${window}`;
}

/** The minute a session attribute counts vends of, or undefined when it is no such counter. */
export function sessionVendsWindow(attribute: string): number | undefined {
  if (!attribute.startsWith(SESSION_VENDS_PREFIX)) return undefined;
  const window = Number(attribute.slice(SESSION_VENDS_PREFIX.length));
  return Number.isSafeInteger(window) ? window : undefined;
}

/** The sort key prefix of one user's entry in a list partition (revocations, deletions). */
const LIST_ENTRY_PREFIX = 'USER#';
/** The sort key prefix of one share's entry in the revocations partition. */
const SHARE_LIST_ENTRY_PREFIX = 'SHARE#';

/** Every key the stores read or write. */
export const KEYS = {
  user: (username: Username): ItemKey => ({ pk: userPartition(username), sk: 'PROFILE' }),
  /** The sort key of user items, for the operator's listing (a scan). */
  userSortKey: 'PROFILE',
  lockout: (username: Username, scope: LockoutScope = UNKNOWN_DEVICE_SCOPE): ItemKey => ({
    pk: userPartition(username),
    sk: scoped('LOCKOUT', scope),
  }),
  session: (tokenHash: string): ItemKey => ({ pk: `SESSION#${tokenHash}`, sk: 'SESSION' }),
  /** The `sessionsByOwner` index's partition key value of one user's sessions. */
  sessionOwner: (username: Username): string => userPartition(username),
  resetCode: (username: Username): ItemKey => ({ pk: userPartition(username), sk: 'RESET' }),
  /** An audit entry at `sortKeyTail` (time-ordered, see audit-store.ts). */
  audit: (username: Username, sortKeyTail: string): ItemKey => ({
    pk: userPartition(username),
    sk: `${AUDIT_PREFIX}${sortKeyTail}`,
  }),
  /** The partition and sort key prefix that hold one user's audit entries. */
  auditEntries: (username: Username) => ({ pk: userPartition(username), skPrefix: AUDIT_PREFIX }),
  factors: (username: Username): ItemKey => ({ pk: userPartition(username), sk: 'MFA' }),
  factorAttempts: (username: Username, scope: LockoutScope): ItemKey => ({
    pk: userPartition(username),
    sk: scoped('MFALOCK', scope),
  }),
  challenge: (tokenHash: string): ItemKey => ({ pk: `MFA#${tokenHash}`, sk: 'CHALLENGE' }),
  passkeyOwner: (passkeyId: string): ItemKey => ({ pk: `PASSKEY#${passkeyId}`, sk: 'OWNER' }),
  revocation: (username: Username): ItemKey => ({ pk: 'REVOCATIONS', sk: `${LIST_ENTRY_PREFIX}${username}` }),
  revocationLock: { pk: 'REVOCATIONS', sk: 'LOCK' } as ItemKey,
  /** The partition and sort key prefix that hold every revocation entry. */
  revocationEntries: { pk: 'REVOCATIONS', skPrefix: LIST_ENTRY_PREFIX },
  /** A revoked share's cut-off entry. */
  shareRevocation: (shareId: string): ItemKey => ({ pk: 'REVOCATIONS', sk: `${SHARE_LIST_ENTRY_PREFIX}${shareId}` }),
  /** The partition and sort key prefix that hold every share cut-off entry. */
  shareRevocationEntries: { pk: 'REVOCATIONS', skPrefix: SHARE_LIST_ENTRY_PREFIX },
  deletion: (username: Username): ItemKey => ({ pk: 'DELETIONS', sk: `${LIST_ENTRY_PREFIX}${username}` }),
  /** The partition and sort key prefix that hold every queued deletion. */
  deletionEntries: { pk: 'DELETIONS', skPrefix: LIST_ENTRY_PREFIX },
  /** A share's canonical record, in its owner's partition. */
  share: (owner: Username, shareId: string): ItemKey => ({ pk: userPartition(owner), sk: `${SHARE_PREFIX}${shareId}` }),
  /** The partition and sort key prefix that hold the shares one owner gave. */
  sharesGiven: (owner: Username) => ({ pk: userPartition(owner), skPrefix: SHARE_PREFIX }),
  /** A grantee's pointer to a share they received. */
  shareReceived: (grantee: Username, shareId: string): ItemKey => ({
    pk: userPartition(grantee),
    sk: `${RECEIVED_PREFIX}${shareId}`,
  }),
  /** The partition and sort key prefix that hold the pointers to the shares one grantee received. */
  sharesReceived: (grantee: Username) => ({ pk: userPartition(grantee), skPrefix: RECEIVED_PREFIX }),
  /** A share link's canonical record. */
  link: (linkId: string): ItemKey => ({ pk: `${LINK_PREFIX}${linkId}`, sk: 'LINK' }),
  /** A share link's entry in its owner's listing. */
  ownedLink: (owner: Username, linkId: string): ItemKey => ({
    pk: userPartition(owner),
    sk: `${LINK_PREFIX}${linkId}`,
  }),
  /** The partition and sort key prefix that hold one owner's link entries. */
  ownedLinks: (owner: Username) => ({ pk: userPartition(owner), skPrefix: LINK_PREFIX }),
  /** A user's storage meter totals. */
  usage: (username: Username): ItemKey => ({ pk: userPartition(username), sk: 'USAGE' }),
  /** The meter's state of one object, by its key within the user's folder (without `<username>/`). */
  meteredObject: (username: Username, keyInFolder: string): ItemKey => ({
    pk: userPartition(username),
    sk: `${OBJECT_PREFIX}${keyInFolder}`,
  }),
  /** The partition and sort key prefix that hold the meter's object states of one user. */
  meteredObjects: (username: Username) => ({ pk: userPartition(username), skPrefix: OBJECT_PREFIX }),
  /** A user's over-quota cut-off entry. */
  quotaRevocation: (username: Username): ItemKey => ({
    pk: 'REVOCATIONS',
    sk: `${QUOTA_LIST_ENTRY_PREFIX}${username}`,
  }),
  /** The partition and sort key prefix that hold every over-quota cut-off entry. */
  quotaRevocationEntries: { pk: 'REVOCATIONS', skPrefix: QUOTA_LIST_ENTRY_PREFIX },
  /** An invite, by the hash of its code. */
  invite: (codeHash: string): ItemKey => ({ pk: `INVITE#${codeHash}`, sk: 'INVITE' }),
  /** One user's request counts on one UTC day (`yyyy-mm-dd`). */
  usageDay: (day: string, username: Username): ItemKey => ({
    pk: `${USAGE_DAY_PREFIX}${day}`,
    sk: `${LIST_ENTRY_PREFIX}${username}`,
  }),
  /** The partition and sort key prefix that hold every user's request counts of one day. */
  usageDayEntries: (day: string) => ({ pk: `${USAGE_DAY_PREFIX}${day}`, skPrefix: LIST_ENTRY_PREFIX }),
  /** The marker of an access-log object already counted, by the hash of its key. */
  accessLogDone: (logKeyHash: string): ItemKey => ({ pk: `ACCESSLOG#${logKeyHash}`, sk: 'DONE' }),
  /** One user's vend counter of one minute (`window`: whole minutes since the epoch). */
  userVends: (username: Username, window: number): ItemKey => ({
    pk: userPartition(username),
    sk: `${USER_VENDS_PREFIX}${window}`,
  }),
  /** A sign-in nonce, by the hash of its value. */
  oidcNonce: (nonceHash: string): ItemKey => ({ pk: `OIDC_NONCE#${nonceHash}`, sk: 'NONCE' }),
  /** An identity's canonical link, by the hash of (issuer, subject). */
  identity: (identityHash: string): ItemKey => ({ pk: `${IDENTITY_PREFIX}${identityHash}`, sk: 'LINK' }),
  /** An identity link's pointer in its account's partition. */
  userIdentity: (username: Username, identityId: string): ItemKey => ({
    pk: userPartition(username),
    sk: `${IDENTITY_PREFIX}${identityId}`,
  }),
  /** The partition and sort key prefix that hold one account's identity pointers. */
  userIdentities: (username: Username) => ({ pk: userPartition(username), skPrefix: IDENTITY_PREFIX }),
} as const;

export const TABLE_LAYOUT = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL deletes the item some time after it. Readers check expiry themselves. */
  timeToLiveAttribute: 'ttl',
  /** Global secondary index listing a user's sessions, oldest first; it projects ALL attributes (the list reads whole sessions). */
  sessionsByOwnerIndex: {
    name: 'sessionsByOwner',
    partitionKey: 'sessionOwner',
    sortKey: 'createdAt',
  },
} as const;

/**
 * The CreateTable input for this layout (on-demand), for the local sandbox and the
 * integration tests. The deployed table is defined by the CDK stack from TABLE_LAYOUT.
 */
export function createTableInput(tableName: string) {
  const index = TABLE_LAYOUT.sessionsByOwnerIndex;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: TABLE_LAYOUT.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE_LAYOUT.sortKey, AttributeType: 'S' as const },
      { AttributeName: index.partitionKey, AttributeType: 'S' as const },
      { AttributeName: index.sortKey, AttributeType: 'N' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE_LAYOUT.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_LAYOUT.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}
