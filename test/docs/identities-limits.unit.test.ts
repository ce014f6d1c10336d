/**
 * docs/identities.md quotes the OpenID Connect limits of lambda/contract/limits.ts (its Limits
 * table names every OIDC_* limit with the code's value) and the `amr` values the TVM trusts, so
 * the page cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as limits from '../../lambda/contract/limits';
import { MFA_METHODS } from '../../lambda/identities/oidc-service';

const page = readFileSync(join(__dirname, '..', '..', 'docs', 'identities.md'), 'utf8');

/** `NAME` -> the first number of its value cell, from the table under "## Limits". */
function documentedLimits(): Map<string, number> {
  const section = page.slice(page.indexOf('\n## Limits\n'));
  const rows = new Map<string, number>();
  for (const [, name = '', value = ''] of section.matchAll(/^\| `(OIDC_[A-Z_]+)` \| ([^|]+) \|$/gm)) {
    rows.set(name, Number(/\d+/.exec(value.replaceAll(',', ''))?.[0]));
  }
  return rows;
}

const oidcLimits = Object.entries(limits).filter(
  ([name, value]) => name.startsWith('OIDC_') && typeof value === 'number',
);

test('the code has OIDC limits to document (the check below is not vacuous)', () => {
  expect(oidcLimits.length).toBeGreaterThanOrEqual(5);
});

test('docs/identities.md lists every OIDC_* limit of limits.ts with its value, and no other', () => {
  expect(Object.fromEntries(documentedLimits())).toEqual(Object.fromEntries(oidcLimits));
});

test('docs/identities.md lists exactly the amr values that stand in for the second factor (MFA_METHODS)', () => {
  const section = page.slice(page.indexOf('\n## Second factor and `trustProviderMfa`\n'));
  const sentence = /names a multi-factor method or a second factor: ([^(]+)\(`MFA_METHODS`/.exec(section)?.[1] ?? '';
  expect([...sentence.matchAll(/`([a-z]+)`/g)].map((match) => match[1])).toEqual([...MFA_METHODS]);
});
