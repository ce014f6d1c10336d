/** Presigned GETs for share links (`GET /l/{id}`), signed with the credentials vended for that one object. */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { IssuedCredentials } from '../contract/wire';
import type { LinkPresigner } from '../sharing/ports';

/**
 * Signs locally (no call to S3): the URL works only as far as the signing credentials' session
 * policy allows, and for at most `seconds`. `endpoint` is the S3 endpoint apps are told (the
 * sandbox's); AWS's own otherwise.
 */
export class S3LinkPresigner implements LinkPresigner {
  constructor(
    private readonly region: string,
    private readonly endpoint?: string,
  ) {}

  async presignGet(credentials: IssuedCredentials, bucket: string, key: string, seconds: number): Promise<string> {
    const client = new S3Client({
      region: this.region,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
      ...(this.endpoint ? { endpoint: this.endpoint, forcePathStyle: true } : {}),
    });
    try {
      return await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds });
    } finally {
      client.destroy();
    }
  }
}
