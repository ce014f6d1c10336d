/**
 * Tables in the docs that are generated from the code, so they cannot drift: each sits
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in a Markdown file.
 * `npm run docs` rewrites them; test/docs/doc-tables.unit.test.ts fails when one is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PASSWORD_MEMORY_MB, ROUTES, SIZED_FOR_EXPECTED_LOAD, secretCheckingPaths } from '../lambda/contract/routes';
import { bucketArn, renderVendingRolePolicy } from '../lambda/credentials/policy';
import {
  ROLE_INLINE_POLICY_MAX_CHARACTERS,
  policyCharacters,
  renderRevocationPolicy,
  revocationBudget,
  type RevokedUser,
} from '../lambda/credentials/revocation';
import { DEFAULT_SETTINGS, SETTINGS, SETTING_KEYS, settingDefinition } from '../lambda/platform/settings';
import type { Username } from '../lambda/accounts/username';
import { CAPACITY_DOC_TABLES } from '../lib/capacity/tables';
import { routeThrottles, throttleOf } from '../lib/throttles';

const ROOT = resolve(__dirname, '..');

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function shownDefault(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** The settings table: key, default, rule, what it sets and the functions' variable. */
export function settingsTable(): string {
  const rows = SETTING_KEYS.map((key) => {
    const definition = settingDefinition(key);
    const variable = 'variable' in SETTINGS[key] ? ` (\`${definition.variable}\`)` : '';
    // A stage-dependent default is shown for the default stage and for `dev`.
    const devDefault = definition.defaultForStage?.('dev');
    const shown =
      devDefault === undefined || devDefault === definition.defaultValue
        ? `\`${shownDefault(definition.defaultValue)}\``
        : `\`${shownDefault(definition.defaultValue)}\` (\`${shownDefault(devDefault)}\` in \`dev\`)`;
    return `| \`${key}\` | ${shown} | ${cell(definition.rule)} | ${cell(definition.description)}${variable} |`;
  });
  return ['| key | default | allowed | what it sets (function variable) |', '|---|---|---|---|', ...rows].join('\n');
}

/** Each route's throttle with the default settings (lib/throttles.ts): rate, burst, and where it comes from. */
export function throttlesTable(): string {
  const throttles = routeThrottles(DEFAULT_SETTINGS);
  const rows = ROUTES.map((route) => {
    const limits = throttleOf(throttles, route);
    const source =
      route.throttle === SIZED_FOR_EXPECTED_LOAD
        ? 'sized for `expectedMonthlyUsers`'
        : route.memoryMb === PASSWORD_MEMORY_MB
          ? 'fixed (may run bcrypt)'
          : 'fixed';
    return `| \`${route.method} ${route.path}\` | ${limits.ratePerSecond.toLocaleString('en-US')} | ${limits.burst.toLocaleString('en-US')} | ${source} |`;
  });
  return ['| route | requests/s | burst | limits |', '|---|---|---|---|', ...rows].join('\n');
}

/** Every route with what it costs and what it may do: memory, whether it vends, whether WAF rate-limits its path. */
export function routesTable(): string {
  const limited = new Set(secretCheckingPaths(ROUTES));
  const rows = ROUTES.map(
    (route) =>
      `| \`${route.method} ${route.path}\` | ${route.memoryMb.toLocaleString('en-US')} | ${route.vendsCredentials ? 'yes' : ''} | ${limited.has(route.path) ? 'yes' : ''} |`,
  );
  return [
    '| route | memory (MB) | vends credentials (trusted by the vending role) | WAF rate rule on its path (`waf=true`) |',
    '|---|---|---|---|',
    ...rows,
    '',
    `${ROUTES.filter((route) => route.vendsCredentials).length} routes vend credentials; the WAF rule matches ${limited.size} paths: ${[...limited].map((path) => `\`${path}\``).join(', ')}.`,
  ].join('\n');
}

/** The longest bucket name S3 allows: the vending role's own policy is largest with it. */
const LONGEST_BUCKET_NAME = 'b'.repeat(63);

/** `count` distinct valid usernames of `length` characters. */
function usernames(count: number, length: number): RevokedUser[] {
  return Array.from({ length: count }, (_, index) => ({
    username: index.toString(36).padStart(length, 'a') as Username,
    cutOffAt: Date.UTC(2026, 0, 1),
  }));
}

/** How many users of one name length the revocation policy names (one cut-off instant) before it turns to groups. */
export function namedCapacity(length: number, budget: number): number {
  let low = 1;
  let high = Math.floor(budget / length);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (renderRevocationPolicy(usernames(middle, length), budget).matchedBy === 'users') low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The vending role's policy budget: its own policy's size, what is left, and how many names fit. */
export function revocationCapacityTable(): string {
  const own = policyCharacters(renderVendingRolePolicy(bucketArn(LONGEST_BUCKET_NAME)));
  const budget = revocationBudget(renderVendingRolePolicy(bucketArn(LONGEST_BUCKET_NAME)));
  const fmt = (value: number) => value.toLocaleString('en-US');
  return [
    `The vending role's own \`FileBucketAccess\` policy takes ${fmt(own)} of IAM's ${fmt(ROLE_INLINE_POLICY_MAX_CHARACTERS)} characters with a 63-character bucket name, leaving ${fmt(budget)} for \`tvm-revoked-users\`.`,
    '',
    '| username length | users named (one cut-off instant) |',
    '|---|---|',
    ...[8, 16, 64].map((length) => `| ${length} | ${fmt(namedCapacity(length, budget))} |`),
  ].join('\n');
}

/** Every generated table by name. */
export const GENERATED_TABLES: Readonly<Record<string, () => string>> = {
  settings: settingsTable,
  throttles: throttlesTable,
  ...CAPACITY_DOC_TABLES,
  routes: routesTable,
  'revocation-capacity': revocationCapacityTable,
};

/** The Markdown files that may hold generated tables: the README and docs/. */
export function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs');
  return [
    join(ROOT, 'README.md'),
    ...readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(docs, name)),
  ];
}

const REGION = /(<!-- generated:([a-z-]+) -->\n)([\s\S]*?)(<!-- \/generated:\2 -->)/g;

/** The text with every generated region rewritten; throws on an unknown table name. */
export function refreshGeneratedRegions(text: string): string {
  return text.replace(REGION, (_whole, open: string, name: string, _old: string, close: string) => {
    const render = GENERATED_TABLES[name];
    if (!render) throw new Error(`Unknown generated table "${name}".`);
    return `${open}${render()}\n${close}`;
  });
}

if (require.main === module) {
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8');
    const refreshed = refreshGeneratedRegions(text);
    if (refreshed !== text) {
      writeFileSync(file, refreshed);
      console.log(`updated ${file.slice(ROOT.length + 1)}`);
    }
  }
}
