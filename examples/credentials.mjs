// @ts-check
// Log alice in and use her credentials with any AWS SDK v3 client: fromTvm keeps them fresh.
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromTvm, LoginRequiredError, TvmClient } from '@serverless-tvm/client';

const tvm = new TvmClient({ baseUrl: process.env.TVM_API_URL ?? 'http://127.0.0.1:3000' });
try {
  await tvm.login('alice', 'correct horse battery staple');
} catch (error) {
  if (error instanceof LoginRequiredError) console.error('Log in again.');
  throw error;
}

const credentials = fromTvm(tvm);
const storage = await credentials.storage(); // { bucket, prefix: 'alice/', region, endpoint? }
const s3 = new S3Client({
  region: storage.region,
  credentials,
  // Only the local sandbox sends an endpoint; on AWS the SDK finds S3 itself.
  ...(storage.endpoint ? { endpoint: storage.endpoint, forcePathStyle: true } : {}),
});

await s3.send(new PutObjectCommand({ Bucket: storage.bucket, Key: `${storage.prefix}hello.txt`, Body: 'Hello, S3!' }));
const listed = await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: storage.prefix }));
console.log(listed.Contents?.map((object) => object.Key));
console.log('expires', (await credentials()).expiration.toISOString());
s3.destroy();
