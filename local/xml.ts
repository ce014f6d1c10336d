/** Just enough XML writing for AWS-shaped responses. */

/** Escapes text for an XML element body or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** `<Name>escaped value</Name>` for each entry, in order. */
export function xmlElements(entries: Readonly<Record<string, string>>): string {
  return Object.entries(entries)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
}
