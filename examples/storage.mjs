// @ts-check
// Files in alice's folder with the storage helpers: upload (multipart above 7 MiB, with
// progress), list a folder, download, delete.
import { TvmClient } from '@serverless-tvm/client';
import { TvmStorage } from '@serverless-tvm/client/storage';

const tvm = new TvmClient({ baseUrl: process.env.TVM_API_URL ?? 'http://127.0.0.1:3000' });
await tvm.login('alice', 'correct horse battery staple');
const storage = new TvmStorage({ client: tvm });

// 20 MiB: three parts of 7 MiB, sent four at a time, each retried through a dropped network.
const video = new Uint8Array(20 * 1024 * 1024).fill(42);
const upload = storage.upload('videos/clip.bin', video, {
  contentType: 'application/octet-stream',
  onProgress: ({ loadedBytes, totalBytes }) => console.log(`${loadedBytes} of ${totalBytes} bytes`),
});
// upload.abort() would stop it and remove the parts already sent.
await upload.done;

await storage.createFolder('notes');
await storage.upload('notes/todo.txt', 'buy milk', { contentType: 'text/plain' }).done;

const top = await storage.list(); // one page; storage.pages() walks them all
console.log(
  'folders',
  top.folders,
  'files',
  top.files.map((file) => file.name),
);
const notes = await storage.list({ folder: 'notes/' });
console.log(
  'in notes/',
  notes.files.map((file) => `${file.name} (${file.sizeBytes} bytes)`),
);

const download = await storage.download('notes/todo.txt');
console.log('todo.txt says', await download.body.transformToString());

await storage.delete('videos/clip.bin');
console.log('clip.bin is gone:', (await storage.stat('videos/clip.bin')) === undefined);
storage.dispose();
