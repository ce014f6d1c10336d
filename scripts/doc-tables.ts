/**
 * Tables in the docs that are generated from the code, so they cannot drift: each sits
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in a Markdown file.
 * `npm run docs` rewrites them; test/docs/doc-tables.unit.test.ts fails when one is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PASSWORD_MEMORY_MB, ROUTES, SIZED_FOR_EXPECTED_LOAD } from '../lambda/contract/routes';
import { DEFAULT_SETTINGS, SETTINGS, SETTING_KEYS, settingDefinition } from '../lambda/platform/settings';
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

/** Every generated table by name. */
export const GENERATED_TABLES: Readonly<Record<string, () => string>> = {
  settings: settingsTable,
  throttles: throttlesTable,
  ...CAPACITY_DOC_TABLES,
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
