/**
 * The session tags the TVM sets on vended credentials, in one list: the vending role's trust
 * policy allows exactly these keys (policies/vending-role-trust-policy.json), and the sandbox's
 * STS refuses any other, as AWS would under that trust policy.
 */

/** The session tag carrying the username; policies and CloudTrail can match on it. */
export const USERNAME_SESSION_TAG = 'username';

/** The session tag carrying the user's revocation group; the vending functions set it. */
export const REVOCATION_GROUP_SESSION_TAG = 'revocationGroup';

/** The session tag carrying the share id on share credentials (and the link id on a link's). */
export const SHARE_SESSION_TAG = 'share';

/** The session tag carrying a share's revocation group (a hash of the share id), for long cut-off lists. */
export const SHARE_GROUP_SESSION_TAG = 'shareGroup';

/** Every session tag key a vending function may set. */
export const SESSION_TAG_KEYS = [
  USERNAME_SESSION_TAG,
  REVOCATION_GROUP_SESSION_TAG,
  SHARE_SESSION_TAG,
  SHARE_GROUP_SESSION_TAG,
] as const;

/** One of {@link SESSION_TAG_KEYS}. */
export type SessionTagKey = (typeof SESSION_TAG_KEYS)[number];
