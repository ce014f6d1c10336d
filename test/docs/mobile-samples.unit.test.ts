/**
 * The Swift and Kotlin samples of docs/api.md, checked without a Swift or Kotlin toolchain
 * (none runs here): the date formats the Swift sample tries, in its order, modelled on
 * Foundation's ISO8601DateFormatter and run on the `expiration` text the real STS adapter
 * produces; the configuration type; which statuses mean "log in again" and which are retried;
 * and, in Kotlin, that blocking I/O runs on Dispatchers.IO with no lock held.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StsCredentialIssuer } from '../../lambda/adapters/sts-issuer';
import type { Username } from '../../lambda/accounts/username';

const API_DOC = readFileSync(join(resolve(__dirname, '../..'), 'docs/api.md'), 'utf8');

function sample(language: 'swift' | 'kotlin'): string {
  const block = new RegExp(`<!-- mobile-sample: ${language} -->\\n\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(
    API_DOC,
  )?.[1];
  if (!block) throw new Error(`docs/api.md has no ${language} sample`);
  return block;
}

/**
 * What an ISO8601DateFormatter with these options accepts, for the options the sample may
 * use: `.withInternetDateTime` is date, `T`, time to the second and a zone (`Z` or +hh:mm);
 * `.withFractionalSeconds` makes a fraction after the seconds required (Foundation then
 * refuses a time without one, hence a second format as fallback). Any other option fails the
 * test, so the model never silently accepts what it does not know.
 */
function formatterAccepts(options: readonly string[], text: string): boolean {
  const known = new Set(['.withInternetDateTime', '.withFractionalSeconds']);
  for (const option of options)
    if (!known.has(option)) throw new Error(`no model for ISO8601DateFormatter option ${option}`);
  if (!options.includes('.withInternetDateTime')) throw new Error('the model needs .withInternetDateTime');
  const fraction = options.includes('.withFractionalSeconds') ? '\\.\\d+' : '';
  return new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}${fraction}(Z|[+-]\\d{2}:\\d{2})$`).test(text);
}

/** The formatOptions the Swift sample's date strategy tries, in order. */
function swiftDateFormats(): string[][] {
  return [...sample('swift').matchAll(/formatOptions = \[([^\]]*)\]/g)].map((match) =>
    (match[1] ?? '').split(',').map((option) => option.trim()),
  );
}

/** The Swift sample decodes `text` when any of its formats accepts it. */
const swiftDecodes = (text: string) => swiftDateFormats().some((options) => formatterAccepts(options, text));

/** The `expiration` text the API sends: the real STS adapter, with STS answering `expiration` as the SDK parses it. */
async function apiExpiration(expiration: Date): Promise<string> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: expiration,
    },
  });
  try {
    const issued = await new StsCredentialIssuer(
      new STSClient({ region: 'eu-west-1' }),
      'arn:aws:iam::123456789012:role/vending',
    ).issue({
      username: 'alice' as Username,
      sessionPolicy: '{}',
      durationSeconds: 3600,
    });
    return issued.expiration;
  } finally {
    sts.restore();
  }
}

/** The `{ ... }` body that starts at the first `{` at or after `from`. */
function braced(text: string, from: number): string {
  const start = text.indexOf('{', from);
  let depth = 0;
  for (let index = start; index < text.length; index++) {
    if (text[index] === '{') depth++;
    if (text[index] === '}' && --depth === 0) return text.slice(start, index + 1);
  }
  throw new Error('unbalanced braces');
}

describe('the Swift sample', () => {
  it("decodes the expiration the API really sends (with milliseconds) for any instant, and STS's own form without them", async () => {
    expect(await apiExpiration(new Date('2026-12-07T14:49:04Z'))).toBe('2026-12-07T14:49:04.000Z');
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
        async (instant) => {
          const sent = await apiExpiration(instant);
          expect(swiftDecodes(sent)).toBe(true);
          expect(swiftDecodes(sent.replace(/\.\d+Z$/, 'Z'))).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("does not use .iso8601, which the model shows refuses the API's milliseconds (the bug it had)", async () => {
    expect(sample('swift')).not.toMatch(/dateDecodingStrategy = \.iso8601/);
    expect(sample('swift')).toMatch(/dateDecodingStrategy = \.custom/);
    // `.iso8601` is ISO8601DateFormatter with [.withInternetDateTime] alone.
    expect(formatterAccepts(['.withInternetDateTime'], await apiExpiration(new Date('2026-12-07T14:49:04Z')))).toBe(
      false,
    );
    expect(swiftDateFormats()[0]).toEqual(['.withInternetDateTime', '.withFractionalSeconds']);
  });

  it('configures S3 with the current S3Client.S3ClientConfig, not the deprecated S3ClientConfiguration', () => {
    expect(sample('swift')).toContain('S3Client.S3ClientConfig(awsCredentialIdentityResolver: resolver, region:');
    expect(sample('swift')).not.toContain('S3ClientConfiguration');
  });

  it('asks for a new login only without a token or on 401, and retries 503 after Retry-After', () => {
    const swift = sample('swift');
    const loginRequired = swift
      .split('\n')
      .map((line, index, lines) =>
        line.includes('throw LoginRequired()') ? `${lines[index - 1]?.trim()} | ${line.trim()}` : undefined,
      )
      .filter(Boolean);
    expect(loginRequired).toEqual([
      expect.stringMatching(/guard let token = sessionToken\(\) else \{ throw LoginRequired\(\) \}$/),
      expect.stringMatching(/^case 401: \| throw LoginRequired\(\)/),
    ]);
    expect(swift).toMatch(
      /case 503 where attempt < 3:[\s\S]*value\(forHTTPHeaderField: "Retry-After"\)[\s\S]*Task\.sleep/,
    );
    expect(swift).not.toMatch(/statusCode == 200 else/);
  });
});

describe('the Kotlin sample', () => {
  const kotlin = sample('kotlin');

  it('uses a coroutine Mutex, never synchronized or runBlocking, and holds it only around memory', () => {
    expect(kotlin).toContain('private val lock = Mutex()');
    expect(kotlin).not.toMatch(/synchronized|runBlocking|Thread\.sleep/);
    const held = [...kotlin.matchAll(/lock\.withLock /g)].map((match) => braced(kotlin, match.index));
    expect(held.length).toBeGreaterThanOrEqual(2);
    for (const body of held) expect(body).not.toMatch(/post\(|\.await\(\)|withContext|delay\(|openConnection/);
  });

  it('does its blocking HTTP only inside withContext(Dispatchers.IO)', () => {
    const calls = [...kotlin.matchAll(/\bpost\(/g)].map((match) =>
      kotlin.slice(Math.max(0, match.index - 40), match.index),
    );
    // The declaration, and one call, wrapped in withContext(Dispatchers.IO).
    expect(calls).toHaveLength(2);
    expect(calls.filter((before) => before.includes('withContext(Dispatchers.IO) {'))).toHaveLength(1);
    expect(calls.filter((before) => before.includes('private fun'))).toHaveLength(1);
    expect(kotlin).toMatch(/private fun post\(/);
    expect(kotlin).not.toMatch(/suspend fun post\(/);
  });

  it('asks for a new login only without a token or on 401, and retries 503 after Retry-After', () => {
    const loginRequired = kotlin
      .split('\n')
      .filter((line) => line.includes('throw LoginRequiredException()'))
      .map((line) => line.trim());
    expect(loginRequired).toEqual([
      'val token = sessionToken() ?: throw LoginRequiredException()',
      expect.stringMatching(/^status == 401 -> throw LoginRequiredException\(\)/),
    ]);
    expect(kotlin).toMatch(/status == 503 && attempt < 3 -> delay\(\(retryAfter \?: 2L\)/);
    expect(kotlin).toContain('connection.getHeaderField("Retry-After")');
  });
});
