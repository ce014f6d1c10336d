/**
 * The usage profile the TVM is sized for (docs/capacity.md): how often a typical monthly user
 * calls each route, and from it each route's peak requests per second. Pure, no AWS and no
 * route table import (the route table may size its throttles from this module without a
 * cycle); test/capacity checks that {@link ROUTE_LOADS} names exactly the routes of
 * lambda/contract/routes.ts.
 *
 * Every figure is per *monthly* user (an account that used the TVM at least once that month),
 * so the load grows linearly with `monthlyUsers` and a limit of R requests per second on a
 * route is reached at `R / peak(route, one user)` monthly users.
 */
import { DEFAULT_SETTINGS, type TvmSettings } from '../../lambda/platform/settings';

/** The settings the profile reads. */
export type ProfileSettings = Pick<TvmSettings, 'credentialSeconds' | 'expectedMonthlyUsers'>;

/** The usage assumptions, each documented in {@link PROFILE_FIELDS} and overridable. */
export interface UsageProfile {
  /** Accounts that use the TVM at least once in a month. Default: the `expectedMonthlyUsers` setting. */
  readonly monthlyUsers: number;
  /** The share of monthly users active on a given day (DAU / MAU). */
  readonly dailyActiveShare: number;
  /** How often an active user opens the app in a day; each opening vends once (`POST /token`). */
  readonly sessionsPerActiveDay: number;
  /** How long the app stays open each time; the client refreshes its credentials meanwhile. */
  readonly minutesOpenPerSession: number;
  /** How long before expiry the client refreshes credentials (the client's `refreshBeforeExpiryMs`, 300 s). */
  readonly refreshBeforeExpirySeconds: number;
  /** Logins (password, passkey or outside identity) per monthly user per month: new devices, expired or idle sessions. */
  readonly loginsPerUserPerMonth: number;
  /** The share of logins that end with `POST /logout` (the others let the session expire). */
  readonly logoutShare: number;
  /** New accounts per month, as a share of monthly users. */
  readonly registrationShare: number;
  /** The share of password logins that take a second step (`POST /login/mfa`). */
  readonly mfaShare: number;
  /** The share of logins made with a passkey (options, then the login). */
  readonly passkeyLoginShare: number;
  /** The share of logins (and of registrations) made with an outside identity (nonce, then the login). */
  readonly oidcLoginShare: number;
  /** Share-credential vends, share listings and link listings, each, per active user per day. */
  readonly sharingCallsPerActiveDay: number;
  /** Share links opened (`GET /l/{id}`, by anyone) per active user per day. */
  readonly linkOpensPerActiveDay: number;
  /** Each account-settings route (password, factors, sessions, identities, deletion) per monthly user per month. */
  readonly settingsCallsPerUserPerMonth: number;
  /** The busiest hour's traffic over the average hour's: the peak a throttle must carry. */
  readonly peakHourFactor: number;
}

/** Days in the model's month: every monthly figure is spread over this many days. */
export const DAYS_PER_MONTH = 30;
const SECONDS_PER_MONTH = DAYS_PER_MONTH * 86_400;

/** The client SDK's default refresh margin, `refreshBeforeExpiryMs` of fromTvm (packages/client/src/from-tvm.ts). */
export const CLIENT_REFRESH_BEFORE_EXPIRY_SECONDS = 300;

/** One field of the profile: what it means, its default, and the range an override must lie in. */
export interface ProfileField {
  readonly description: string;
  /** The default; `monthlyUsers` takes the `expectedMonthlyUsers` setting instead. */
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
  /** Whether only whole numbers make sense. */
  readonly integer?: boolean;
}

/** Every profile field with its default and range, in the order the docs list them. */
export const PROFILE_FIELDS: { readonly [K in keyof UsageProfile]: ProfileField } = {
  monthlyUsers: {
    description: 'monthly active users (default: the `expectedMonthlyUsers` setting)',
    defaultValue: DEFAULT_SETTINGS.expectedMonthlyUsers,
    min: 1,
    max: 1_000_000_000,
    integer: true,
  },
  dailyActiveShare: { description: 'share of monthly users active on a given day', defaultValue: 0.3, min: 0, max: 1 },
  sessionsPerActiveDay: {
    description: 'app openings per active user per day (one vend each)',
    defaultValue: 4,
    min: 0,
    max: 1_000,
  },
  minutesOpenPerSession: {
    description: 'minutes the app stays open per opening (credentials refreshed meanwhile)',
    defaultValue: 30,
    min: 0,
    max: 24 * 60,
  },
  refreshBeforeExpirySeconds: {
    description: "seconds before expiry the client refreshes (the client's default)",
    defaultValue: CLIENT_REFRESH_BEFORE_EXPIRY_SECONDS,
    min: 0,
    max: 3_000,
  },
  loginsPerUserPerMonth: {
    description: 'logins per monthly user per month (new devices, expired or idle sessions)',
    defaultValue: 2,
    min: 0,
    max: 1_000,
  },
  logoutShare: { description: 'share of logins that end with a logout', defaultValue: 0.5, min: 0, max: 1 },
  registrationShare: {
    description: 'new accounts per month, as a share of monthly users',
    defaultValue: 0.1,
    min: 0,
    max: 1,
  },
  mfaShare: {
    description: 'share of password logins with a second step',
    defaultValue: 0.2,
    min: 0,
    max: 1,
  },
  passkeyLoginShare: { description: 'share of logins made with a passkey', defaultValue: 0.1, min: 0, max: 1 },
  oidcLoginShare: {
    description: 'share of logins and registrations made with an outside identity',
    defaultValue: 0.1,
    min: 0,
    max: 1,
  },
  sharingCallsPerActiveDay: {
    description: 'share-credential vends, share listings and link listings (each) per active user per day',
    defaultValue: 0.5,
    min: 0,
    max: 1_000,
  },
  linkOpensPerActiveDay: {
    description: 'share links opened per active user per day',
    defaultValue: 0.5,
    min: 0,
    max: 1_000,
  },
  settingsCallsPerUserPerMonth: {
    description: 'calls of each account-settings route per monthly user per month',
    defaultValue: 0.2,
    min: 0,
    max: 1_000,
  },
  peakHourFactor: {
    description: "the busiest hour's traffic over the average hour's",
    defaultValue: 3,
    min: 1,
    max: 24,
  },
};

/** The profile's field names, in documentation order. */
export const PROFILE_KEYS = Object.keys(PROFILE_FIELDS) as (keyof UsageProfile)[];

/** A profile value outside its range; the message names the field and the range. */
export class ProfileRuleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProfileRuleError';
  }
}

/**
 * The profile: the documented defaults (`monthlyUsers` from the `expectedMonthlyUsers`
 * setting) with the given overrides, each checked against its range. Throws
 * {@link ProfileRuleError} for an unknown field or a value out of range.
 */
export function usageProfile(
  settings: ProfileSettings = DEFAULT_SETTINGS,
  overrides: Partial<Record<string, number>> = {},
): UsageProfile {
  const profile: Record<string, number> = {};
  for (const key of PROFILE_KEYS) profile[key] = PROFILE_FIELDS[key].defaultValue;
  profile.monthlyUsers = settings.expectedMonthlyUsers;
  for (const [key, value] of Object.entries(overrides)) {
    if (!(PROFILE_KEYS as string[]).includes(key))
      throw new ProfileRuleError(key, `Unknown profile field "${key}". Known fields: ${PROFILE_KEYS.join(', ')}.`);
    if (value === undefined) continue;
    const field = PROFILE_FIELDS[key as keyof UsageProfile];
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < field.min ||
      value > field.max ||
      (field.integer === true && !Number.isInteger(value))
    ) {
      const kind = field.integer === true ? 'a whole number' : 'a number';
      throw new ProfileRuleError(
        key,
        `Profile field "${key}" must be ${kind} from ${field.min} to ${field.max}; got ${String(value)}.`,
      );
    }
    profile[key] = value;
  }
  if ((profile.passkeyLoginShare ?? 0) + (profile.oidcLoginShare ?? 0) > 1)
    throw new ProfileRuleError(
      'passkeyLoginShare',
      'passkeyLoginShare and oidcLoginShare together must not exceed 1 (the rest are password logins).',
    );
  return profile as unknown as UsageProfile;
}

/**
 * Seconds between two credential refreshes while the app is open: the credentials' lifetime
 * (`credentialSeconds`) less the client's refresh margin.
 */
export function refreshIntervalSeconds(settings: ProfileSettings, profile: UsageProfile): number {
  return Math.max(60, settings.credentialSeconds - profile.refreshBeforeExpirySeconds);
}

/** Derived rates per monthly user per month that several routes share. */
interface Rates {
  readonly activeDays: number;
  readonly openings: number;
  readonly refreshesPerOpening: number;
  readonly passwordLogins: number;
  readonly passkeyLogins: number;
  readonly oidcLogins: number;
  readonly registrations: number;
  readonly sharing: number;
  readonly settings: number;
}

function rates(settings: ProfileSettings, profile: UsageProfile): Rates {
  const activeDays = profile.dailyActiveShare * DAYS_PER_MONTH;
  const logins = profile.loginsPerUserPerMonth;
  return {
    activeDays,
    openings: activeDays * profile.sessionsPerActiveDay,
    refreshesPerOpening: (profile.minutesOpenPerSession * 60) / refreshIntervalSeconds(settings, profile),
    passwordLogins: logins * (1 - profile.passkeyLoginShare - profile.oidcLoginShare),
    passkeyLogins: logins * profile.passkeyLoginShare,
    oidcLogins: logins * profile.oidcLoginShare,
    registrations: profile.registrationShare,
    sharing: activeDays * profile.sharingCallsPerActiveDay,
    settings: profile.settingsCallsPerUserPerMonth,
  };
}

/** How many times one monthly user calls a route in a month, from the profile and its derived rates. */
export type RouteLoad = (profile: UsageProfile, rates: Rates) => number;

const settingsRoute: RouteLoad = (_p, r) => r.settings;
/** Creating or deleting a share or link: a tenth of the sharing calls. */
const sharingChange: RouteLoad = (_p, r) => r.sharing / 10;

/**
 * Each route's monthly calls per monthly user. Every app opening vends once, and each
 * refresh while it stays open vends again (a login's own credentials are not subtracted:
 * conservative). Password logins split into one-step and two-step (MFA); a registration with
 * an outside identity goes through `loginOidc`.
 */
export const ROUTE_LOADS = {
  register: (p, r) => r.registrations * (1 - p.oidcLoginShare),
  login: (_p, r) => r.passwordLogins,
  token: (_p, r) => r.openings * (1 + r.refreshesPerOpening),
  logout: (p) => p.loginsPerUserPerMonth * p.logoutShare,
  password: settingsRoute,
  passwordReset: settingsRoute,
  sessionsList: settingsRoute,
  sessionRevoke: settingsRoute,
  mfaStatus: settingsRoute,
  totpStart: settingsRoute,
  totpConfirm: settingsRoute,
  totpRemove: settingsRoute,
  loginMfa: (p, r) => r.passwordLogins * p.mfaShare,
  passkeyOptions: settingsRoute,
  passkeyAdd: settingsRoute,
  passkeyRemove: settingsRoute,
  passkeyLoginOptions: (_p, r) => r.passkeyLogins,
  passkeyLogin: (_p, r) => r.passkeyLogins,
  accountDelete: settingsRoute,
  shareCreate: sharingChange,
  sharesList: (_p, r) => r.sharing,
  shareDelete: sharingChange,
  shareCredentials: (_p, r) => r.sharing,
  linkCreate: sharingChange,
  linksList: (_p, r) => r.sharing,
  linkDelete: sharingChange,
  linkOpen: (p, r) => r.activeDays * p.linkOpensPerActiveDay,
  oidcNonce: (p, r) => r.oidcLogins + r.registrations * p.oidcLoginShare,
  loginOidc: (p, r) => r.oidcLogins + r.registrations * p.oidcLoginShare,
  identitiesList: settingsRoute,
  identityLink: settingsRoute,
  identityUnlink: settingsRoute,
} as const satisfies Record<string, RouteLoad>;

/** A route the profile knows. */
export type ProfiledRoute = keyof typeof ROUTE_LOADS;

/** Per route: a number. */
export type PerRoute = { readonly [route in ProfiledRoute]: number };

function perRoute(compute: (route: ProfiledRoute, load: RouteLoad) => number): PerRoute {
  const result: Record<string, number> = {};
  for (const [name, load] of Object.entries(ROUTE_LOADS)) result[name] = compute(name as ProfiledRoute, load);
  return result as PerRoute;
}

/** Each route's requests in a month for the profile's monthly users. */
export function monthlyRequests(
  settings: ProfileSettings = DEFAULT_SETTINGS,
  profile: UsageProfile = usageProfile(settings),
): PerRoute {
  const derived = rates(settings, profile);
  return perRoute((_route, load) => load(profile, derived) * profile.monthlyUsers);
}

/** A month's requests as requests per second in the busiest hour (spread evenly, times the peak-hour factor). */
export function peakRate(requestsPerMonth: number, profile: UsageProfile): number {
  return (requestsPerMonth / SECONDS_PER_MONTH) * profile.peakHourFactor;
}

/**
 * Each route's requests per second in the busiest hour: its monthly requests spread evenly
 * over the month, times the profile's peak-hour factor. The vending and light routes' throttles
 * are sized from these (with `expectedMonthlyUsers` as the profile's default `monthlyUsers`).
 */
export function peakRequestsPerSecond(
  settings: ProfileSettings = DEFAULT_SETTINGS,
  profile: UsageProfile = usageProfile(settings),
): PerRoute {
  const monthly = monthlyRequests(settings, profile);
  return perRoute((route) => peakRate(monthly[route], profile));
}

/**
 * One route's peak requests per second, by name. Throws for a route the profile does not
 * know: a new route must declare its load in {@link ROUTE_LOADS}.
 */
export function routePeakRequestsPerSecond(
  route: string,
  settings: ProfileSettings = DEFAULT_SETTINGS,
  profile: UsageProfile = usageProfile(settings),
): number {
  const peaks: Readonly<Record<string, number>> = peakRequestsPerSecond(settings, profile);
  const peak = peaks[route];
  if (peak === undefined)
    throw new Error(
      `Route "${route}" has no load in lib/capacity/profile.ts (ROUTE_LOADS): declare how often it is called.`,
    );
  return peak;
}
