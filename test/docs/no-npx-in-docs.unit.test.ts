/**
 * The docs never tell anyone to run `npx tvm-admin`: the name is unclaimed on the public npm
 * registry, and outside the project (or before `npm ci`) npx would download and run whatever is
 * published under it, with the operator's AWS credentials in its environment (docs/operating.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The README, packages' READMEs, every page under docs/ and the workflows people copy from. */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join('docs', file));
  const workflows = readdirSync(join(ROOT, '.github/workflows')).map((file) => join('.github/workflows', file));
  return ['README.md', 'packages/client/README.md', ...docs, ...workflows];
}

test('no README, page under docs/ or workflow says `npx tvm-admin`', () => {
  const offending = pages().flatMap((page) =>
    readFileSync(join(ROOT, page), 'utf8')
      .split('\n')
      .map((line, index) => ({ at: `${page}:${index + 1}`, line }))
      .filter(({ line }) => /npx\s+(-\S+\s+)*tvm-admin/.test(line)),
  );
  expect(offending).toEqual([]);
  expect(pages()).toEqual(
    expect.arrayContaining(['README.md', join('docs', 'operating.md'), join('docs', 'deploying.md')]),
  );
});
