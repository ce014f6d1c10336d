import {
  LOCKOUT_COUNTER_WINDOW_MS,
  counterExpiry,
  decideRefusedReservation,
  failureLocks,
} from '../../lambda/accounts/lockout';

const NOW = Date.UTC(2026, 0, 1, 12);
const COOLDOWN = 15 * 60_000;

describe('lockout arithmetic (rule 5)', () => {
  describe('decideRefusedReservation', () => {
    it('restarts when there is no counter', () => {
      expect(decideRefusedReservation(undefined, NOW, COOLDOWN, 5)).toEqual({ action: 'restart' });
    });

    it('restarts when the counter is stale (expiresAt at or before now)', () => {
      expect(decideRefusedReservation({ attempts: 5, expiresAt: NOW }, NOW, COOLDOWN, 5)).toEqual({
        action: 'restart',
      });
      expect(
        decideRefusedReservation({ attempts: 5, lockedUntil: NOW + COOLDOWN, expiresAt: NOW - 1 }, NOW, COOLDOWN, 5),
      ).toEqual({
        action: 'restart',
      });
    });

    it('rule 5: is locked for the remaining whole seconds (rounded up) while lockedUntil is ahead', () => {
      const state = { attempts: 5, lockedUntil: NOW + COOLDOWN, expiresAt: NOW + LOCKOUT_COUNTER_WINDOW_MS };
      expect(decideRefusedReservation(state, NOW, COOLDOWN, 5)).toEqual({ action: 'locked', retryAfterSeconds: 900 });
      expect(decideRefusedReservation(state, NOW + 1, COOLDOWN, 5)).toEqual({
        action: 'locked',
        retryAfterSeconds: 900,
      });
      expect(decideRefusedReservation(state, NOW + 1000, COOLDOWN, 5)).toEqual({
        action: 'locked',
        retryAfterSeconds: 899,
      });
    });

    it('rule 5: never tells a locked client to retry in 0 seconds (at least 1)', () => {
      const state = { attempts: 5, lockedUntil: NOW + 1, expiresAt: NOW + LOCKOUT_COUNTER_WINDOW_MS };
      expect(decideRefusedReservation(state, NOW, COOLDOWN, 5)).toEqual({ action: 'locked', retryAfterSeconds: 1 });
    });

    it('rule 5: restarts once the cool-down has ended (lockedUntil at or before now)', () => {
      const state = { attempts: 5, lockedUntil: NOW, expiresAt: NOW + LOCKOUT_COUNTER_WINDOW_MS };
      expect(decideRefusedReservation(state, NOW, COOLDOWN, 5)).toEqual({ action: 'restart' });
    });

    it('rule 5: a full counter whose lock is not yet written (checks still running) counts as locked for the whole cool-down', () => {
      const state = { attempts: 5, expiresAt: NOW + LOCKOUT_COUNTER_WINDOW_MS };
      expect(decideRefusedReservation(state, NOW, COOLDOWN, 5)).toEqual({ action: 'locked', retryAfterSeconds: 900 });
      expect(decideRefusedReservation(state, NOW, 90_500, 5)).toEqual({ action: 'locked', retryAfterSeconds: 91 });
    });
  });

  describe('a counter that changed between the refused reservation and the read', () => {
    it('rule 5: a counter below the threshold and unlocked means "try again", never a false 429', () => {
      const state = { attempts: 1, expiresAt: NOW + LOCKOUT_COUNTER_WINDOW_MS };
      expect(decideRefusedReservation(state, NOW, COOLDOWN, 5)).toEqual({ action: 'retry' });
    });
  });

  describe('failureLocks', () => {
    it('rule 5: the threshold-th failure locks (5 of 5), earlier ones do not', () => {
      expect([1, 2, 3, 4].map((n) => failureLocks(n, 5))).toEqual([false, false, false, false]);
      expect(failureLocks(5, 5)).toBe(true);
      expect(failureLocks(6, 5)).toBe(true);
      expect(failureLocks(1, 1)).toBe(true);
    });
  });

  describe('counterExpiry', () => {
    it('keeps an idle counter one day after it was touched', () => {
      expect(LOCKOUT_COUNTER_WINDOW_MS).toBe(86_400_000);
      expect(counterExpiry(NOW)).toBe(NOW + 86_400_000);
    });

    it('keeps a locked counter one day past the end of its lock, so the lock outlives nothing', () => {
      expect(counterExpiry(NOW, NOW + COOLDOWN)).toBe(NOW + COOLDOWN + 86_400_000);
    });

    it('never expires before now + one day, even with a lock in the past', () => {
      expect(counterExpiry(NOW, NOW - COOLDOWN)).toBe(NOW + 86_400_000);
    });
  });
});
