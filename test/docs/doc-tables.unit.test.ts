/** The tables generated from code (scripts/doc-tables.ts) are current in every doc that holds one. */
import { readFileSync } from 'node:fs';
import { GENERATED_TABLES, markdownFiles, refreshGeneratedRegions } from '../../scripts/doc-tables';

const files = markdownFiles().map((file) => ({ file, text: readFileSync(file, 'utf8') }));

test.each(Object.keys(GENERATED_TABLES))('the %s table appears in the docs', (name) => {
  expect(files.some(({ text }) => text.includes(`<!-- generated:${name} -->`))).toBe(true);
});

test.each(files.map(({ file, text }) => [file.replace(/.*\/(?=(docs\/)?[^/]+$)/, ''), text] as const))(
  '%s: every generated table matches the code (run `npm run docs` to refresh)',
  (_name, text) => {
    expect(refreshGeneratedRegions(text)).toBe(text);
  },
);
