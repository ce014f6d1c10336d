/**
 * The fake backends of `npm run bench`'s cold starts, preloaded (`node --require`) into each
 * fresh process before the harness starts its clock. When a bundle first requires
 * @aws-sdk/lib-dynamodb or @aws-sdk/client-sts, the clients' `send` is replaced by the
 * in-memory table and STS of fake-backends.ts; the table starts from BENCH_FAKE_SEED (a JSON
 * file of items, taken from the sandbox's table). Everything else is as in Lambda: the SDK
 * modules are loaded and the clients built by the bundle itself; only the calls are answered
 * here, so the time measured is the bundle's loading and its own first-event work.
 *
 * Built with esbuild into one CommonJS file by bench/run.ts; it never touches a bundle that
 * has the SDK inside (nothing is required by name there), so those run against the sandbox.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { FakeTable, fakeAssumeRole, type Item } from './fake-backends';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
type Sendable = { prototype: { send: (command: { constructor: { name: string }; input: never }) => Promise<unknown> } };

const table = new FakeTable();
const seedFile = process.env.BENCH_FAKE_SEED;
if (!seedFile) throw new Error('BENCH_FAKE_SEED is not set');
for (const item of JSON.parse(readFileSync(seedFile, 'utf8')) as Item[]) table.items.set(FakeTable.key(item), item);

let assumed = 0;
const fakes: Record<string, (exports: Record<string, Sendable>) => void> = {
  '@aws-sdk/lib-dynamodb': (exports) => {
    exports.DynamoDBDocumentClient!.prototype.send = async (command) => table.serve(command.constructor.name, command.input);
  },
  '@aws-sdk/client-sts': (exports) => {
    exports.STSClient!.prototype.send = async (command) => {
      if (command.constructor.name !== 'AssumeRoleCommand') throw new Error(`the fake STS does not serve ${command.constructor.name}`);
      return fakeAssumeRole(command.input, ++assumed);
    };
  },
};

const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = function fakeBackendsLoad(this: unknown, request, parent, isMain) {
  const exports = load.call(this, request, parent, isMain);
  const fake = fakes[request];
  if (fake) {
    fake(exports as Record<string, Sendable>);
    delete fakes[request];
  }
  return exports;
};
