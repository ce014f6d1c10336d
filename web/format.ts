/** Sizes as people read them. Pure, so the messages can use it outside a page. */

/** "1.5 MB": sizes in binary units (1 KB = 1,024 bytes), as file managers show them. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A name short enough for a sentence: a very long one keeps its start and its end. */
export function shortName(name: string, max = 60): string {
  const characters = [...name];
  if (characters.length <= max) return name;
  return `${characters.slice(0, max - 16).join('')}…${characters.slice(-15).join('')}`;
}

/** "3.2 GB of 10 GB" (with a quota) or "3.2 GB used" (without), from `storage.usage`. */
export function usageText(usage: { readonly bytes: number; readonly quotaBytes: number | null }): string {
  return usage.quotaBytes === null
    ? `${formatSize(usage.bytes)} used`
    : `${formatSize(usage.bytes)} of ${formatSize(usage.quotaBytes)}`;
}
