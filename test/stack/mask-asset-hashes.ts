/**
 * A jest snapshot serializer that replaces every 64-hex-digit string (asset hashes in
 * `Code.S3Key`, asset paths and metadata) with a fixed marker, so the snapshot moves when the
 * infrastructure changes and not when handler code or esbuild does.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;

export const maskAssetHashes: jest.SnapshotSerializerPlugin = {
  test: (value: unknown) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value: string, config, indentation, depth, refs, printer) =>
    printer(value.replace(ASSET_HASH, '<asset-hash>'), config, indentation, depth, refs),
};
