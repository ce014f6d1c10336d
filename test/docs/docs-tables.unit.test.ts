/**
 * The documentation is checked against the code it describes, so it cannot drift: the route
 * table in docs/api.md against lambda/contract/routes.ts (the settings table in docs/deploying.md is
 * generated, see scripts/doc-tables.ts). Every relative link in the README and docs/ must
 * lead to a file (and heading) that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROUTES } from '../../lambda/contract/routes';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** The rows of the first Markdown table whose header row is exactly `header`, as cell arrays. */
function tableRows(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) throw new Error(`No table with header ${header}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inCode = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const heading = !inCode && /^#{1,6} (.+)$/.exec(line);
    if (heading) anchors.add(anchorOf(heading[1] ?? ''));
  }
  return anchors;
}

describe('docs/api.md route table', () => {
  const rows = tableRows(read('docs/api.md'), '| route | auth | body | success |');

  it('lists every route of lambda/contract/routes.ts, in its order, and nothing else', () => {
    expect(rows.map(([route]) => route)).toEqual(ROUTES.map((route) => `\`${route.method} ${route.path}\``));
  });

  it('states each route authentication as the route table does', () => {
    expect(rows.map(([, auth]) => auth)).toEqual(ROUTES.map((route) => (route.auth === 'bearer' ? 'Bearer' : 'none')));
  });

  it('names exactly the body fields of each route model, optional ones marked with ?', () => {
    const documented = rows.map(([, , body]) => body);
    const expected = ROUTES.map((route) => {
      if (!route.body) return 'none';
      const fields = Object.keys(route.body.properties).map((field) =>
        route.body?.required?.includes(field) ? field : `${field}?`,
      );
      return `\`{${fields.join(', ')}}\``;
    });
    expect(documented).toEqual(expected);
  });
});

describe('README and docs/', () => {
  const pages = [
    'README.md',
    ...readdirSync(path.join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];

  it('keeps the README short enough to read in one sitting (at most 200 lines)', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  it.each(pages)('%s links only to files and headings that exist', (page) => {
    const markdown = read(page);
    const broken: string[] = [];
    for (const [, target = ''] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue; // an absolute URL
      const [file = '', anchor] = target.split('#');
      const resolved = file ? path.join(path.dirname(path.join(ROOT, page)), file) : path.join(ROOT, page);
      if (!existsSync(resolved)) broken.push(target);
      else if (anchor && resolved.endsWith('.md') && !headingAnchors(readFileSync(resolved, 'utf8')).has(anchor))
        broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it.each(pages)('%s cites no issue numbers or internal rule numbers a reader cannot look up', (page) => {
    const markdown = read(page);
    expect(markdown).not.toMatch(/(^|\s)#\d+\b/m);
    expect(markdown).not.toMatch(/design rule/i);
    // Nor the names of the branches the work was done on.
    expect(markdown).not.toMatch(/\bi1\d[a-z]?\b/);
  });
});

describe('pointers from code to the docs', () => {
  it('the CDK app sends an operator with a bad setting to a docs section that exists', () => {
    const pointers = [...read('bin/tvm.ts').matchAll(/"([^"]+)" in (docs\/[\w-]+\.md)/g)];
    expect(pointers.length).toBeGreaterThan(0);
    for (const [, section = '', page = ''] of pointers) {
      expect(headingAnchors(read(page))).toContain(anchorOf(section));
    }
  });
});
