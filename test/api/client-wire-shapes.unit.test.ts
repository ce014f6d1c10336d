/**
 * The sharing and identity wire shapes are stated once on the server (lambda/contract/wire.ts). The client
 * package may not import server code, so its types are copies; this holds them together: at
 * compile time (a field added, removed, renamed or retyped on one side fails the typecheck) and
 * at run time (every answer the server's types allow, generated, is read by the client's parsers
 * to the same value).
 */
import fc from 'fast-check';
import * as client from '../../packages/client/src/types';
import {
  parseLinkCreated,
  parseLinkList,
  parseShareCredentials,
  parseShareList,
} from '../../packages/client/src/sharing';
import { parseIdentityList, parseIdentitySummary, parseOidcNonce } from '../../packages/client/src/identities';
import * as server from '../../lambda/contract/wire';

/** True only when A and B are the same type (readonly and optional modifiers included). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equals<A, B>): Equals<A, B> => proof;

// Each line fails to compile when the two sides drift apart.
same<client.ShareAccess, server.ShareAccess>(true);
same<client.ShareSummary, server.ShareSummary>(true);
same<client.ShareList, server.ShareList>(true);
same<client.ShareStorageInfo, server.ShareStorageInfo>(true);
same<client.LinkCreated, server.LinkCreated>(true);
same<client.LinkSummary, server.LinkSummary>(true);
same<client.LinkList, server.LinkList>(true);
same<client.OidcNonce, server.OidcNonce>(true);
same<client.IdentitySummary, server.IdentitySummary>(true);
same<client.IdentityList, server.IdentityList>(true);
// The client hands credentials' expiration out as a Date; everything else is the wire's.
same<Omit<client.ShareCredentialsResult, 'credentials'>, Omit<server.ShareCredentialsResult, 'credentials'>>(true);
same<
  Omit<client.ShareCredentialsResult['credentials'], 'expiration'>,
  Omit<server.ShareCredentialsResult['credentials'], 'expiration'>
>(true);

const iso = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const end = fc.option(iso, { nil: null });
const access = fc.constantFrom(...server.SHARE_ACCESS_LEVELS);

const share: fc.Arbitrary<server.ShareSummary> = fc.record(
  {
    id: fc.string(),
    owner: fc.string(),
    path: fc.string(),
    grantee: fc.string(),
    access,
    expiresAt: end,
    createdAt: iso,
    lastUsedAt: iso,
    lastUsedBy: fc.string(),
  },
  { requiredKeys: ['id', 'owner', 'path', 'grantee', 'access', 'expiresAt', 'createdAt'] },
);
const linkCreated: fc.Arbitrary<server.LinkCreated> = fc.record({ id: fc.string(), url: fc.webUrl(), expiresAt: end });
const link: fc.Arbitrary<server.LinkSummary> = fc
  .tuple(
    linkCreated,
    fc.record(
      { path: fc.string(), createdAt: iso, lastUsedAt: iso, lastUsedBy: fc.string() },
      { requiredKeys: ['path', 'createdAt'] },
    ),
  )
  .map(([created, rest]) => ({ ...created, ...rest }));
const credentials: fc.Arbitrary<server.ShareCredentialsResult> = fc.record({
  credentials: fc.record({
    accessKeyId: fc.string(),
    secretAccessKey: fc.string(),
    sessionToken: fc.string(),
    expiration: iso,
  }),
  storage: fc.record(
    {
      bucket: fc.string(),
      prefix: fc.string(),
      region: fc.string(),
      endpoint: fc.webUrl(),
      usage: fc.record({
        bytes: fc.maxSafeNat(),
        objects: fc.maxSafeNat(),
        quotaBytes: fc.option(fc.maxSafeNat(), { nil: null }),
        overQuota: fc.boolean(),
      }),
    },
    { requiredKeys: ['bucket', 'prefix', 'region', 'usage'] },
  ),
  access,
  expiresAt: end,
});

const oidcNonce: fc.Arbitrary<server.OidcNonce> = fc.record({ nonce: fc.string({ minLength: 1 }), expiresAt: iso });
const identity: fc.Arbitrary<server.IdentitySummary> = fc.record({
  id: fc.string(),
  provider: fc.string(),
  linkedAt: iso,
});

/** What the server's JSON body looks like on the wire. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe("the client's sharing wire shapes", () => {
  it('name the same access levels as the server, in order', () => {
    expect(client.SHARE_ACCESS_LEVELS).toEqual(server.SHARE_ACCESS_LEVELS);
  });

  it('read every share list the server can send to the same value', () => {
    fc.assert(
      fc.property(fc.record({ given: fc.array(share), received: fc.array(share) }), (list) => {
        expect(parseShareList(wire(list))).toEqual(list);
      }),
    );
  });

  it('read every link and link list the server can send to the same value', () => {
    fc.assert(
      fc.property(linkCreated, fc.array(link), (created, links) => {
        expect(parseLinkCreated(wire(created))).toEqual(created);
        expect(parseLinkList(wire({ links }))).toEqual({ links });
      }),
    );
  });

  it('read every share credentials answer to the same value, with the expiration as the same instant', () => {
    fc.assert(
      fc.property(credentials, (answer) => {
        const parsed = parseShareCredentials(wire(answer));
        expect({
          ...parsed,
          credentials: { ...parsed.credentials, expiration: parsed.credentials.expiration.toISOString() },
        }).toEqual(answer);
      }),
    );
  });
});

describe("the client's identity wire shapes", () => {
  it('read every sign-in nonce the server can send to the same value', () => {
    fc.assert(
      fc.property(oidcNonce, (answer) => {
        expect(parseOidcNonce(wire(answer))).toEqual(answer);
      }),
    );
  });

  it('read every identity and identity list the server can send to the same value', () => {
    fc.assert(
      fc.property(identity, fc.array(identity), (one, identities) => {
        expect(parseIdentitySummary(wire(one))).toEqual(one);
        expect(parseIdentityList(wire({ identities }))).toEqual({ identities });
      }),
    );
  });
});
