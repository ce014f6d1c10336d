/** Text rules every capability shares: well-formed Unicode, and a printable label (a device, a passkey). */
import { ValidationError } from './errors';

/**
 * Refuses text that is not valid Unicode (a lone UTF-16 surrogate): it has no UTF-8 form, so
 * two different inputs would otherwise be stored or compared as the same U+FFFD.
 */
export function checkWellFormed(text: string, field: string): void {
  if (!text.isWellFormed())
    throw new ValidationError(`${field} is not valid Unicode text (it holds a lone surrogate).`, field);
}

/** A printable label (a device, a passkey): 1 to `max` characters after NFKC and trimming. */
export function parseLabel(raw: string, field: string, max: number): string {
  checkWellFormed(raw, field);
  const label = raw.normalize('NFKC').trim();
  // Printable text only: labels are shown in lists and written to logs.
  if (label.length === 0 || [...label].length > max || /[\p{Cc}\p{Cf}]/u.test(label)) {
    throw new ValidationError(`${field} must be 1-${max} printable characters.`, field);
  }
  return label;
}
