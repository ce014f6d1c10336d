/** Access-log objects read from the log bucket (GetObject), for the access-log processor. */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AccessLogReader } from '../usage/request-ports';

/** The largest log object read: S3's are far smaller (a few MB); a larger one is refused, not read into memory. */
const MAX_LOG_OBJECT_BYTES = 256 * 1024 * 1024;

/** {@link AccessLogReader} over S3. */
export class S3AccessLogReader implements AccessLogReader {
  constructor(private readonly s3: S3Client) {}

  async read(bucket: string, key: string): Promise<string> {
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((answer.ContentLength ?? 0) > MAX_LOG_OBJECT_BYTES)
      throw new Error(`access log object of ${answer.ContentLength} bytes is larger than ${MAX_LOG_OBJECT_BYTES}`);
    return (await answer.Body?.transformToString('utf8')) ?? '';
  }
}

/** The S3 client of the functions: AWS's endpoint, or the sandbox's gate (path-style) when S3_ENDPOINT names one. */
export function functionS3Client(region: string, endpoint: string | undefined): S3Client {
  return new S3Client({
    region,
    maxAttempts: 3,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}
