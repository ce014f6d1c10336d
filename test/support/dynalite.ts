// The one dynalite starter lives beside the benchmarks' tools (scripts/dev), so bench/ need not import test/.
export { startDynalite, type DynaliteServer as TestDynamoDb } from '../../scripts/dev/dynalite';
