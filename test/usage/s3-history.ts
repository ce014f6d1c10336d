/**
 * A model of an S3 bucket (versioned like the file bucket, or unversioned like the sandbox's
 * emulator) that turns operations into the event notifications S3 would send, each with a
 * per-key increasing sequencer, and knows the truth the meter must reach: the current
 * versions under each folder. For the meter's tests and property tests.
 */
import fc from 'fast-check';
import { encodeEventKey } from '../../lambda/usage/s3-events';

/** One operation on the bucket. */
export type BucketOperation =
  | { readonly op: 'put' | 'post' | 'multipart'; readonly key: string; readonly size: number }
  | { readonly op: 'copy'; readonly from: string; readonly key: string }
  | { readonly op: 'delete' | 'expire-current' | 'expire-noncurrent'; readonly key: string };

interface Version {
  readonly versionId: string;
  readonly size: number;
  readonly marker: boolean;
}

/** S3's notification record for one event. */
export interface S3Record {
  readonly eventVersion: string;
  readonly eventSource: 'aws:s3';
  readonly awsRegion: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly s3: {
    readonly s3SchemaVersion: '1.0';
    readonly bucket: { readonly name: string; readonly arn: string };
    readonly object: {
      readonly key: string;
      readonly size?: number;
      readonly eTag?: string;
      readonly versionId?: string;
      readonly sequencer: string;
    };
  };
}

const CREATED_NAMES = {
  put: 'ObjectCreated:Put',
  post: 'ObjectCreated:Post',
  multipart: 'ObjectCreated:CompleteMultipartUpload',
  copy: 'ObjectCreated:Copy',
} as const;

/** A bucket model that records the events its operations cause. */
export class S3History {
  readonly records: S3Record[] = [];
  private readonly keys = new Map<string, Version[]>();
  private sequence = 0;
  private versionCounter = 0;
  private time = Date.UTC(2026, 11, 1);

  constructor(
    readonly bucket: string,
    readonly versioned: boolean,
    /** Random trailing zeros on sequencers (S3's values vary in length; right-padding makes them equal). */
    private readonly padding: () => number = () => 0,
  ) {}

  apply(operation: BucketOperation): void {
    const versions = this.keys.get(operation.key) ?? [];
    this.keys.set(operation.key, versions);
    const current = versions[versions.length - 1];
    switch (operation.op) {
      case 'put':
      case 'post':
      case 'multipart':
        this.create(operation.key, versions, operation.size, CREATED_NAMES[operation.op]);
        return;
      case 'copy': {
        const source = this.keys.get(operation.from)?.at(-1);
        if (!source || source.marker) return; // NoSuchKey: no event
        this.create(operation.key, versions, source.size, CREATED_NAMES.copy);
        return;
      }
      case 'delete':
      case 'expire-current': {
        const lifecycle = operation.op === 'expire-current';
        if (lifecycle && (!current || current.marker)) return;
        if (this.versioned) {
          const marker = { versionId: this.nextVersion(), size: 0, marker: true };
          versions.push(marker);
          this.emit(
            lifecycle ? 'LifecycleExpiration:DeleteMarkerCreated' : 'ObjectRemoved:DeleteMarkerCreated',
            operation.key,
            { versionId: marker.versionId },
          );
        } else {
          versions.length = 0;
          this.emit(lifecycle ? 'LifecycleExpiration:Delete' : 'ObjectRemoved:Delete', operation.key, {});
        }
        return;
      }
      case 'expire-noncurrent': {
        // The oldest noncurrent version (or a delete marker left alone) expires for good.
        if (!this.versioned) return;
        const noncurrent = versions.length > 1 ? versions[0] : current?.marker ? current : undefined;
        if (!noncurrent) return;
        versions.splice(versions.indexOf(noncurrent), 1);
        this.emit('LifecycleExpiration:Delete', operation.key, { versionId: noncurrent.versionId });
        return;
      }
    }
  }

  /** Bytes and objects of current versions under `<user>/`. */
  truth(user: string): { bytes: number; objects: number } {
    let bytes = 0;
    let objects = 0;
    for (const [key, versions] of this.keys) {
      const current = versions[versions.length - 1];
      if (!key.startsWith(`${user}/`) || !current || current.marker) continue;
      bytes += current.size;
      objects += 1;
    }
    return { bytes, objects };
  }

  /** The current listing of `<user>/`: key in folder to size. */
  listing(user: string): Map<string, number> {
    const listing = new Map<string, number>();
    for (const [key, versions] of this.keys) {
      const current = versions[versions.length - 1];
      if (key.startsWith(`${user}/`) && current && !current.marker)
        listing.set(key.slice(user.length + 1), current.size);
    }
    return listing;
  }

  /** One SQS message body holding `records`. */
  static body(records: readonly S3Record[]): string {
    return JSON.stringify({ Records: records });
  }

  private create(key: string, versions: Version[], size: number, eventName: string): void {
    const version = { versionId: this.versioned ? this.nextVersion() : 'null', size, marker: false };
    if (this.versioned) versions.push(version);
    else versions.splice(0, versions.length, version);
    this.emit(eventName, key, {
      size,
      eTag: 'd41d8cd98f00b204e9800998ecf8427e',
      ...(this.versioned ? { versionId: version.versionId } : {}),
    });
  }

  private nextVersion(): string {
    this.versionCounter += 1;
    return `v${this.versionCounter.toString(36)}`;
  }

  private emit(eventName: string, key: string, object: { size?: number; eTag?: string; versionId?: string }): void {
    this.sequence += 1;
    this.time += 1000;
    const sequencer = this.sequence.toString(16).toUpperCase().padStart(16, '0') + '0'.repeat(this.padding());
    this.records.push({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: new Date(this.time).toISOString(),
      eventName,
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: this.bucket, arn: `arn:aws:s3:::${this.bucket}` },
        object: { key: encodeEventKey(key), sequencer, ...object },
      },
    });
  }
}

/** Keys across two users' folders, the folder root, odd characters, and outside any folder. */
export const historyKey = fc.constantFrom(
  'alice/a.txt',
  'alice/b c+d.bin',
  'alice/dir/ü €.txt',
  'alice/',
  'bob/a.txt',
  'bob/photos/1.jpg',
  'ghost/x',
  'Alice/x',
  'loose-file',
);

/** Operations on {@link historyKey}s. */
export const bucketOperation: fc.Arbitrary<BucketOperation> = fc.oneof(
  fc.record({ op: fc.constantFrom('put', 'post', 'multipart'), key: historyKey, size: fc.nat({ max: 5_000_000 }) }),
  fc.record({ op: fc.constant('copy'), from: historyKey, key: historyKey }),
  fc.record({ op: fc.constantFrom('delete', 'expire-current', 'expire-noncurrent'), key: historyKey }),
) as fc.Arbitrary<BucketOperation>;
