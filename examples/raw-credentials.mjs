// @ts-check
// The API without the client package: log in with fetch, then hand the credentials to the AWS
// SDK. The API sends `expiration` as ISO 8601 text; the SDK needs a Date.
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const API = process.env.TVM_API_URL ?? 'http://127.0.0.1:3000';
const response = await fetch(`${API}/login`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ username: 'alice', password: 'correct horse battery staple' }),
});
if (!response.ok) throw new Error(`login answered ${response.status}`);
const { credentials, storage } = await response.json();

const s3 = new S3Client({
  region: storage.region,
  credentials: { ...credentials, expiration: new Date(credentials.expiration) },
  ...(storage.endpoint ? { endpoint: storage.endpoint, forcePathStyle: true } : {}),
});
await s3.send(new PutObjectCommand({ Bucket: storage.bucket, Key: `${storage.prefix}notes.txt`, Body: 'hi' }));
const listed = await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: storage.prefix }));
console.log(listed.Contents?.map((object) => object.Key));
s3.destroy();
