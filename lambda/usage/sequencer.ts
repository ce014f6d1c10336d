/**
 * S3's `sequencer`: the order of events on ONE object key. The rule, stated once: the values
 * are hexadecimal strings of varying length; right-pad the shorter with zeros, then compare
 * lexicographically; the greater is the later event. (AWS's "Event message structure" page
 * and the AWS SDKs' event types state the rule; older copies of that page said "left pad".
 * S3 keeps the leading digits' width per key, so right padding is what orders real values.)
 * Sequencers of different keys are never compared.
 */

/** A sequencer that passed {@link parseSequencer}: upper-case hexadecimal, 1 to 64 digits. */
export type Sequencer = string & { readonly __brand: 'Sequencer' };

/** S3's sequencers are 16 to 18 hex digits today; the bound only refuses garbage. */
const MAX_DIGITS = 64;
const HEX_DIGITS = new Set('0123456789ABCDEF');

/** The lowest sequencer: what the reconcile gives an object it listed but had no event for, so any real event wins. */
export const LOWEST_SEQUENCER = '0' as Sequencer;

/** The sequencer in `raw`, normalised to upper case; undefined when it is not 1 to 64 hexadecimal digits. */
export function parseSequencer(raw: unknown): Sequencer | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_DIGITS) return undefined;
  const upper = raw.toUpperCase();
  for (const digit of upper) if (!HEX_DIGITS.has(digit)) return undefined;
  return upper as Sequencer;
}

/** Negative when `a` is earlier than `b`, positive when later, 0 when the same event (S3's rule above). */
export function compareSequencers(a: Sequencer, b: Sequencer): number {
  const width = Math.max(a.length, b.length);
  const left = a.padEnd(width, '0');
  const right = b.padEnd(width, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Whether `candidate` names a later event on the key than `stored`. */
export function isLater(candidate: Sequencer, stored: Sequencer): boolean {
  return compareSequencers(candidate, stored) > 0;
}
