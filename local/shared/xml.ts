/**
 * XML for AWS-shaped requests and responses: writing (escaping) and reading request bodies
 * with fast-xml-parser, a maintained parser that runs in time linear in its input, held to
 * limits (size, depth, no DTD so no entity expansion) so no body can take the process's time
 * or memory.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Escapes text for an XML element body or attribute. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );
}

/** `<Name>escaped value</Name>` for each entry, in order. */
export function xmlElements(entries: Readonly<Record<string, string>>): string {
  return Object.entries(entries)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
}

/** An element as read: its text (leaf) or its children by name, each a list in document order. */
export type XmlNode = string | XmlElement;
/** An element with children. */
export interface XmlElement {
  readonly [name: string]: XmlNode[];
}

/** Why a body could not be read as XML; callers turn it into their service's error. */
export class XmlBodyError extends Error {
  constructor(readonly reason: 'malformed' | 'too-large' | 'too-many-elements') {
    super(
      reason === 'malformed'
        ? 'The XML is not well-formed.'
        : reason === 'too-large'
          ? 'The XML body is too large.'
          : 'The XML body has too many elements.',
    );
    this.name = 'XmlBodyError';
  }
}

/** Limits every XML body is read under. */
export interface XmlLimits {
  /** Bytes of the body. */
  readonly maxBytes: number;
  /** Nesting depth of elements (S3's request schemas need at most 5). */
  readonly maxDepth: number;
  /**
   * Elements in the whole body. Checked by counting `<` before parsing (each element needs
   * one or two), so a body of many thousands of repeated elements costs one scan, not a parse.
   */
  readonly maxElements: number;
}

/** How many `<` a text holds, up to `stopAt`. */
function countMarkup(text: string, stopAt: number): number {
  let count = 0;
  for (let at = text.indexOf('<'); at !== -1 && count <= stopAt; at = text.indexOf('<', at + 1)) count += 1;
  return count;
}

const TEXT = '#text';
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const parsers = new Map<number, XMLParser>();
function parserFor(maxDepth: number): XMLParser {
  let parser = parsers.get(maxDepth);
  if (!parser) {
    parser = new XMLParser({
      ignoreAttributes: true,
      ignoreDeclaration: true,
      ignorePiTags: true,
      parseTagValue: false,
      trimValues: false,
      // Entities are decoded by decodeEntities below: exactly XML's five and character references.
      processEntities: false,
      htmlEntities: false,
      textNodeName: TEXT,
      maxNestedTags: maxDepth,
      // Every element a list, so a repeated element is seen (and refused where one is expected).
      isArray: () => true,
    });
    parsers.set(maxDepth, parser);
  }
  return parser;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Decodes XML's predefined entities and character references in one left-to-right pass. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  let out = '';
  let at = 0;
  for (let amp = text.indexOf('&'); amp !== -1; amp = text.indexOf('&', at)) {
    const semi = text.indexOf(';', amp);
    // Longest reference is `&#x10FFFF;`; anything longer or unterminated is not one.
    if (semi === -1 || semi - amp > 9) throw new XmlBodyError('malformed');
    const name = text.slice(amp + 1, semi);
    let decoded = NAMED_ENTITIES[name];
    if (decoded === undefined) {
      const hex = name.startsWith('#x');
      const digits = name.slice(hex ? 2 : 1);
      if (!name.startsWith('#') || digits === '' || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits))
        throw new XmlBodyError('malformed');
      const codePoint = Number.parseInt(digits, hex ? 16 : 10);
      // XML's Char production: no NUL, no surrogate halves, nothing past U+10FFFF.
      if (!(codePoint > 0 && codePoint <= 0x10ffff) || (codePoint >= 0xd800 && codePoint <= 0xdfff))
        throw new XmlBodyError('malformed');
      decoded = String.fromCodePoint(codePoint);
    }
    out += text.slice(at, amp) + decoded;
    at = semi + 1;
  }
  return out + text.slice(at);
}

function normalise(value: unknown): XmlNode {
  if (typeof value === 'string') return decodeEntities(value);
  if (value === null || typeof value !== 'object') return '';
  // fast-xml-parser gives lists for elements, and for text a list or a single value.
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([name, list]) => [name, Array.isArray(list) ? list : [list]] as const,
  );
  // A leaf that is only text (fast-xml-parser gives `{ '#text': ... }` for some leaves).
  if (entries.every(([name]) => name === TEXT)) return decodeEntities(entries.flatMap(([, list]) => list).join(''));
  const element: Record<string, XmlNode[]> = Object.create(null) as Record<string, XmlNode[]>;
  for (const [name, list] of entries) {
    // Text between child elements is layout, unless it is more than whitespace.
    if (name === TEXT) {
      if (list.some((text) => String(text).trim() !== '')) throw new XmlBodyError('malformed');
      continue;
    }
    element[name] = list.map(normalise);
  }
  return element;
}

/**
 * Reads an XML body into its root element's name and content, or throws {@link XmlBodyError}.
 * Refused as malformed: anything not well-formed, any DTD (so no entity can expand), comments
 * and CDATA sections (no S3 client sends them, and refusing them keeps one reading of a body),
 * unknown entities, and nesting deeper than the limit.
 */
export function parseXmlBody(
  body: Buffer | string,
  limits: XmlLimits,
): { readonly root: string; readonly content: XmlNode } {
  if (Buffer.byteLength(body) > limits.maxBytes) throw new XmlBodyError('too-large');
  let text: string;
  try {
    text = typeof body === 'string' ? body : STRICT_UTF8.decode(body);
  } catch {
    throw new XmlBodyError('malformed');
  }
  if (text.includes('<!')) throw new XmlBodyError('malformed');
  // Past the element limit even if every element were self-closing (plus an XML declaration).
  const markupLimit = 2 * limits.maxElements + 1;
  if (countMarkup(text, markupLimit) > markupLimit) throw new XmlBodyError('too-many-elements');
  if (XMLValidator.validate(text) !== true) throw new XmlBodyError('malformed');
  let document: unknown;
  try {
    document = parserFor(limits.maxDepth).parse(text);
  } catch {
    throw new XmlBodyError('malformed');
  }
  const roots = Object.entries(document as Record<string, unknown>).filter(([name]) => name !== TEXT);
  const [first] = roots;
  if (roots.length !== 1 || !first || !Array.isArray(first[1]) || first[1].length !== 1)
    throw new XmlBodyError('malformed');
  return { root: first[0], content: normalise(first[1][0]) };
}

/** Children of an element with this name (none for a leaf). */
export function children(node: XmlNode, name: string): XmlNode[] {
  return typeof node === 'string' ? [] : (node[name] ?? []);
}

/** The names of an element's children. */
export function childNames(node: XmlNode): string[] {
  return typeof node === 'string' ? [] : Object.keys(node);
}
