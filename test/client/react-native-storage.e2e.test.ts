/**
 * The storage helpers as a React Native app runs them: the client and the AWS SDK bundled the
 * way Metro resolves packages (the `react-native` and `browser` fields, so the SDK's React
 * Native code, which streams through web `ReadableStream`s and parses XML with `DOMParser`), in
 * a JavaScript runtime without web streams (Node's own `ReadableStream`, `WritableStream`,
 * `TransformStream`, `TextDecoderStream`, ... removed) and without `DOMParser`, with the
 * polyfill block of docs/api.md, as it is written there, first. A multipart upload, a small
 * upload, and both downloads, byte for byte, against the sandbox. Without the polyfills the
 * same bundle fails (the negative control), so the test does reach that code.
 */
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startSandbox, type Sandbox } from '../../local/sandbox';
import { register } from '../support/e2e';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);
const PASSWORD = 'correct horse battery';

/** Every web-streams global Node provides and React Native does not. */
const WEB_STREAM_GLOBALS = [
  'ReadableStream',
  'ReadableStreamDefaultReader',
  'ReadableStreamBYOBReader',
  'ReadableStreamDefaultController',
  'ReadableByteStreamController',
  'ReadableStreamBYOBRequest',
  'WritableStream',
  'WritableStreamDefaultWriter',
  'WritableStreamDefaultController',
  'TransformStream',
  'TransformStreamDefaultController',
  'ByteLengthQueuingStrategy',
  'CountQueuingStrategy',
  'TextDecoderStream',
  'TextEncoderStream',
  'CompressionStream',
  'DecompressionStream',
];
/** What React Native lacks besides streams: the SDK's XML parser needs them. */
const DOM_GLOBALS = ['DOMParser', 'Node'];
/** React Native-only packages, which Node stands in for with its own `crypto` and `URL`. */
const NATIVE_ONLY = ['react-native-get-random-values', 'react-native-url-polyfill/auto'];

/**
 * fetch as React Native has it: over XMLHttpRequest, so the whole answer arrives as a Blob and
 * `response.body` is undefined (the SDK then reads `blob()`). Built on node:http here, so no
 * Node web stream is involved.
 */
const REACT_NATIVE_FETCH = `{
  const http = process.getBuiltinModule('node:http');
  globalThis.fetch = async (input, init = {}) => {
    const request = typeof input === 'string' ? { url: input, method: init.method ?? 'GET', headers: new Headers(init.headers), body: init.body, signal: init.signal } : input;
    const sent = request.body == null ? undefined : new Uint8Array(await new Response(init.body ?? request.body).arrayBuffer());
    return new Promise((resolve, reject) => {
      const outgoing = http.request(request.url, { method: request.method, headers: Object.fromEntries(request.headers) }, (incoming) => {
        const chunks = [];
        incoming.on('data', (chunk) => chunks.push(new Uint8Array(chunk)));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const blob = new Blob(chunks);
          const headers = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
          resolve({ ok: incoming.statusCode >= 200 && incoming.statusCode < 300, status: incoming.statusCode, statusText: incoming.statusMessage ?? '', url: request.url, headers, body: undefined,
            blob: async () => blob, arrayBuffer: () => blob.arrayBuffer(), text: () => blob.text(), json: async () => JSON.parse(await blob.text()) });
        });
      });
      outgoing.on('error', (error) => reject(new TypeError('Network request failed', { cause: error })));
      request.signal?.addEventListener('abort', () => outgoing.destroy(new Error('aborted')));
      outgoing.end(sent);
    });
  };
}`;

/** The polyfill block docs/api.md tells React Native apps to put first, as it is written there. */
function documentedPolyfills(): string {
  const block = /<!-- react-native-polyfills -->\n```js\n([\s\S]*?)```/.exec(
    readFileSync(join(ROOT, 'docs/api.md'), 'utf8'),
  )?.[1];
  if (!block) throw new Error('docs/api.md has no <!-- react-native-polyfills --> block');
  return block;
}

/** The app: what an index.js of a React Native app would run after its polyfills. */
const APP = `
import { TvmClient } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';

const missing = ${JSON.stringify([...WEB_STREAM_GLOBALS, ...DOM_GLOBALS])}.filter((name) => name in globalThis);
const tvm = new TvmClient({ baseUrl: process.env.TVM_API_URL });
await tvm.login(process.env.TVM_USER, process.env.TVM_PASSWORD);
const storage = new TvmStorage({ client: tvm, partSizeBytes: 5 * 1024 * 1024 });
const bytes = new Uint8Array(11 * 1024 * 1024).map((_, index) => (index * 7) % 251);
let progress = 0;
await storage.upload('phone/video.bin', bytes, { onProgress: ({ loadedBytes }) => (progress = loadedBytes) }).done;
await storage.upload('phone/note.txt', 'written on a phone', { contentType: 'text/plain' }).done;
const video = await (await storage.download('phone/video.bin')).body.transformToByteArray();
const note = await (await storage.download('phone/note.txt')).body.transformToString();
console.log(JSON.stringify({
  present: missing,
  polyfilled: typeof ReadableStream === 'function' ? ReadableStream.toString().includes('[native code]') ? 'native' : 'polyfill' : 'none',
  progress,
  videoBytes: video.length,
  sameVideo: video.length === bytes.length && video.every((byte, index) => byte === bytes[index]),
  note,
}));
storage.dispose();
`;

let sandbox: Sandbox;
let folder: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'tvm-react-native-'));
  writeFileSync(join(folder, 'app.mjs'), APP);
  sandbox = await startSandbox({ port: 0, s3Port: 0, dataDir: join(folder, 'data'), bcryptCost: 10 });
  await register(sandbox.apiUrl, 'rn-user', PASSWORD);
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** Bundles the app as Metro resolves it, web streams and DOMParser removed first and `polyfills` run next; runs it and parses its line. */
async function runAsReactNative(polyfills: string): Promise<Record<string, unknown>> {
  const outfile = join(folder, `app-${polyfills.length}.mjs`);
  // As docs/api.md says: the block in polyfills.js, imported by the first line of index.js.
  writeFileSync(join(folder, 'polyfills.js'), polyfills);
  writeFileSync(join(folder, 'index.js'), `import './polyfills.js';\nimport './app.mjs';\n`);
  await build({
    entryPoints: [join(folder, 'index.js')],
    plugins: [
      {
        name: 'react-native-only',
        setup: (bundler) => {
          bundler.onResolve({ filter: new RegExp(`^(${NATIVE_ONLY.join('|')})$`) }, (args) => ({
            path: args.path,
            namespace: 'native-only',
          }));
          bundler.onLoad({ filter: /.*/, namespace: 'native-only' }, () => ({ contents: '', loader: 'js' }));
        },
      },
    ],
    // The JavaScript runtime has none of them before the polyfills run, and its fetch, like
    // React Native's, hands back no body stream (the SDK then reads blob()): the banner comes first.
    banner: {
      js: `${REACT_NATIVE_FETCH}\nfor (const name of ${JSON.stringify([...WEB_STREAM_GLOBALS, ...DOM_GLOBALS])}) delete globalThis[name];`,
    },
    bundle: true,
    outfile,
    format: 'esm',
    platform: 'browser',
    mainFields: ['react-native', 'browser', 'module', 'main'],
    conditions: ['react-native', 'browser', 'import'],
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  const { stdout } = await run(process.execPath, [outfile], {
    env: { PATH: process.env.PATH ?? '', TVM_API_URL: sandbox.apiUrl, TVM_USER: 'rn-user', TVM_PASSWORD: PASSWORD },
    timeout: 90_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

it('with the documented polyfills first, TvmStorage uploads (multipart, with progress) and downloads byte for byte without native web streams or DOMParser', async () => {
  const polyfills = documentedPolyfills();
  for (const name of [...NATIVE_ONLY, 'web-streams-polyfill/polyfill', '@xmldom/xmldom'])
    expect(polyfills).toContain(`'${name}'`);
  const result = await runAsReactNative(polyfills);
  expect(result).toEqual({
    // What the polyfills brought back; TextDecoderStream and the rest are not needed.
    present: [
      'ReadableStream',
      'ReadableStreamDefaultReader',
      'ReadableStreamBYOBReader',
      'ReadableStreamDefaultController',
      'ReadableByteStreamController',
      'ReadableStreamBYOBRequest',
      'WritableStream',
      'WritableStreamDefaultWriter',
      'WritableStreamDefaultController',
      'TransformStream',
      'TransformStreamDefaultController',
      'ByteLengthQueuingStrategy',
      'CountQueuingStrategy',
      'DOMParser',
      'Node',
    ],
    polyfilled: 'polyfill',
    progress: 11 * 1024 * 1024,
    videoBytes: 11 * 1024 * 1024,
    sameVideo: true,
    note: 'written on a phone',
  });
}, 120_000);

it('without the polyfills the same app fails, so the test above does exercise that code', async () => {
  await expect(runAsReactNative('')).rejects.toThrow(/ReadableStream|WritableStream|TransformStream|DOMParser/);
}, 120_000);

it('with every polyfill but the web streams, the upload or download fails on a missing stream class', async () => {
  const withoutStreams = documentedPolyfills()
    .split('\n')
    .filter((line) => !line.includes('web-streams-polyfill'))
    .join('\n');
  await expect(runAsReactNative(withoutStreams)).rejects.toThrow(/ReadableStream|WritableStream|TransformStream/);
}, 120_000);
