/**
 * The preload of `npm run bench`'s cold starts (`node --require`), loaded into each fresh
 * process before the harness starts its clock. When a bundle first requires the AWS SDK's
 * DynamoDB or STS client, their `send` is wrapped so every call counts as excluded time
 * (excluded-time.ts): the calls still go to the sandbox's dynalite and STS, and the harness
 * reports the first event's time without them, i.e. the bundle's own first-event work.
 * Everything else is as in Lambda: the SDK modules are loaded and the clients built by the
 * bundle itself.
 *
 * Built with esbuild into one CommonJS file by bench/cold-starts.ts; it never touches a bundle
 * that has the SDK inside (nothing is required by name there).
 */
import Module from 'node:module';
import { timeBackendCalls } from './excluded-time';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

const clients: Record<string, readonly string[]> = {
  '@aws-sdk/lib-dynamodb': ['DynamoDBDocumentClient'],
  '@aws-sdk/client-dynamodb': ['DynamoDBClient'],
  '@aws-sdk/client-sts': ['STSClient'],
};

const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = function timedBackendsLoad(this: unknown, request, parent, isMain) {
  const exports = load.call(this, request, parent, isMain) as Record<string, unknown>;
  const names = clients[request];
  if (names) {
    delete clients[request];
    timeBackendCalls(names.map((name) => exports[name]));
  }
  return exports;
};
