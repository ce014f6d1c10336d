/** The current time in epoch milliseconds. Injected so tests can move it. */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };
