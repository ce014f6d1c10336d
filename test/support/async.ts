/** Small helpers shared by tests. */

/** Runs `promise` to its end and returns what it threw (or fails if it did not throw). */
export async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * Fakes only Date (starting at `now`), so timers, sockets and bcrypt keep running while a
 * test moves the clock with jest.setSystemTime. Undo with jest.useRealTimers().
 */
export function fakeDateOnly(now: number): void {
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
    now,
  });
}
