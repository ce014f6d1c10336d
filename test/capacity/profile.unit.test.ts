import fc from 'fast-check';
import { fromTvm, MemorySessionStore, TvmClient } from '@serverless-tvm/client';
import { FakeTvm, json, vendResult } from '../client/fake-tvm';
import {
  CLIENT_REFRESH_BEFORE_EXPIRY_SECONDS,
  DAYS_PER_MONTH,
  PROFILE_FIELDS,
  PROFILE_KEYS,
  ProfileRuleError,
  ROUTE_LOADS,
  monthlyRequests,
  peakRequestsPerSecond,
  refreshIntervalSeconds,
  routePeakRequestsPerSecond,
  usageProfile,
} from '../../lib/capacity/profile';
import { ROUTES } from '../../lambda/contract/routes';
import { DEFAULT_SETTINGS } from '../../lambda/platform/settings';

describe('the usage profile', () => {
  it('declares a load for exactly the routes of the route table', () => {
    expect(Object.keys(ROUTE_LOADS).sort()).toEqual(ROUTES.map((route) => route.name).sort());
  });

  it('takes monthlyUsers from the expectedMonthlyUsers setting (default 1,000,000) and the other fields from their documented defaults', () => {
    expect(DEFAULT_SETTINGS.expectedMonthlyUsers).toBe(1_000_000);
    const profile = usageProfile({ ...DEFAULT_SETTINGS, expectedMonthlyUsers: 250_000 });
    expect(profile.monthlyUsers).toBe(250_000);
    for (const key of PROFILE_KEYS.filter((k) => k !== 'monthlyUsers'))
      expect([key, profile[key]]).toEqual([key, PROFILE_FIELDS[key].defaultValue]);
    expect(profile.refreshBeforeExpirySeconds).toBe(CLIENT_REFRESH_BEFORE_EXPIRY_SECONDS);
  });

  it('refreshes credentials every credentialSeconds less the client margin: 3,300 s by default', () => {
    expect(refreshIntervalSeconds(DEFAULT_SETTINGS, usageProfile())).toBe(3300);
    expect(refreshIntervalSeconds({ ...DEFAULT_SETTINGS, credentialSeconds: 900 }, usageProfile())).toBe(600);
  });

  it('counts one vend per app opening plus the refreshes while it stays open, at the peak hour', () => {
    const profile = usageProfile();
    const openings = profile.monthlyUsers * profile.dailyActiveShare * DAYS_PER_MONTH * profile.sessionsPerActiveDay;
    const perOpening = 1 + (profile.minutesOpenPerSession * 60) / 3300;
    expect(monthlyRequests().token).toBeCloseTo(openings * perOpening, 3);
    expect(peakRequestsPerSecond().token).toBeCloseTo(
      ((openings * perOpening) / (DAYS_PER_MONTH * 86_400)) * profile.peakHourFactor,
      6,
    );
    // Shorter credentials mean more refreshes.
    expect(peakRequestsPerSecond({ ...DEFAULT_SETTINGS, credentialSeconds: 900 }).token).toBeGreaterThan(
      peakRequestsPerSecond().token,
    );
  });

  it('scales every route linearly with monthly users', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000_000 }), (users) => {
        const one = peakRequestsPerSecond(DEFAULT_SETTINGS, usageProfile(DEFAULT_SETTINGS, { monthlyUsers: 1 }));
        const many = peakRequestsPerSecond(DEFAULT_SETTINGS, usageProfile(DEFAULT_SETTINGS, { monthlyUsers: users }));
        for (const route of Object.keys(one) as (keyof typeof one)[]) {
          expect(many[route]).toBeGreaterThanOrEqual(0);
          expect(many[route]).toBeCloseTo(one[route] * users, 6);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('splits logins into password (one or two steps), passkey and outside-identity logins', () => {
    const profile = usageProfile(DEFAULT_SETTINGS, { monthlyUsers: 1000 });
    const monthly = monthlyRequests(DEFAULT_SETTINGS, profile);
    const logins = 1000 * profile.loginsPerUserPerMonth;
    const registrations = 1000 * profile.registrationShare;
    expect(monthly.login + monthly.passkeyLogin + monthly.loginOidc).toBeCloseTo(
      logins + registrations * profile.oidcLoginShare,
      6,
    );
    expect(monthly.loginMfa).toBeCloseTo(monthly.login * profile.mfaShare, 6);
    expect(monthly.register + monthly.loginOidc - logins * profile.oidcLoginShare).toBeCloseTo(registrations, 6);
  });

  it('refuses unknown fields, values out of range and login shares over 1, naming the field', () => {
    const refused = (overrides: Record<string, number>): ProfileRuleError => {
      try {
        usageProfile(DEFAULT_SETTINGS, overrides);
      } catch (error) {
        if (error instanceof ProfileRuleError) return error;
        throw error;
      }
      throw new Error(`accepted ${JSON.stringify(overrides)}`);
    };
    expect(refused({ monthlyUser: 5 }).message).toMatch(/Unknown profile field "monthlyUser"/);
    expect(refused({ dailyActiveShare: 1.5 }).message).toMatch(/"dailyActiveShare" must be a number from 0 to 1/);
    expect(refused({ monthlyUsers: 2.5 }).message).toMatch(/"monthlyUsers" must be a whole number/);
    expect(refused({ peakHourFactor: Number.NaN }).message).toMatch(/peakHourFactor/);
    expect(refused({ passkeyLoginShare: 0.6, oidcLoginShare: 0.5 }).message).toMatch(/together must not exceed 1/);
  });

  it('gives one route by name and refuses a route with no declared load', () => {
    expect(routePeakRequestsPerSecond('token')).toBe(peakRequestsPerSecond().token);
    expect(() => routePeakRequestsPerSecond('invites')).toThrow(/"invites" has no load in lib\/capacity\/profile.ts/);
  });

  it("uses the client's own refresh margin: fromTvm renews the credentials CLIENT_REFRESH_BEFORE_EXPIRY_SECONDS before they expire", async () => {
    jest.useFakeTimers({ now: new Date('2026-12-08T12:00:00Z') });
    try {
      const lifetimeMs = DEFAULT_SETTINGS.credentialSeconds * 1000;
      const tvm = new FakeTvm(() => json(200, vendResult(lifetimeMs)));
      const client = new TvmClient({
        baseUrl: 'https://tvm.example.com',
        fetch: tvm.fetch,
        sessionStore: new MemorySessionStore({
          username: 'alice',
          token: 'bearer-stored',
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        }),
        random: () => 0,
      });
      const provider = fromTvm(client);
      await provider();
      const renewAt = Date.now() + lifetimeMs - CLIENT_REFRESH_BEFORE_EXPIRY_SECONDS * 1000;
      jest.setSystemTime(renewAt - 1000);
      await provider();
      expect(tvm.requests).toHaveLength(1);
      jest.setSystemTime(renewAt + 1000);
      await provider();
      expect(tvm.requests).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
