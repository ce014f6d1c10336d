// @ts-check
// What an app shows when the network drops or the session ends.
import { InvalidCredentialsError, LoginRequiredError, TvmClient } from '@serverless-tvm/client';
import { StorageUnreachableError, TvmStorage } from '@serverless-tvm/client/storage';

const tvm = new TvmClient({ baseUrl: process.env.TVM_API_URL ?? 'http://127.0.0.1:3000' });

// An offline banner: the client reports when the TVM or S3 stops answering, and when they are back.
tvm.connectivity.onChange((state) =>
  console.log(state === 'offline' ? 'Show the offline banner' : 'Hide the offline banner'),
);

// Only a 401 from /token ends the session (revoked, disabled, expired): back to the login screen.
tvm.onSessionChange((event) => {
  if (event.type === 'signedOut' && event.reason === 'rejected') console.log('Your session has ended; log in again.');
});

try {
  await tvm.login('alice', 'not her password');
} catch (error) {
  if (error instanceof InvalidCredentialsError) console.log('Wrong username or password:', error.code);
}

await tvm.login('alice', 'correct horse battery staple');
const storage = new TvmStorage({ client: tvm, recovery: { patienceMs: 10 * 60_000 } });
try {
  const page = await storage.list();
  console.log('alice has', page.files.length, 'files at the top of her folder');
} catch (error) {
  if (error instanceof LoginRequiredError) console.log('Show the login screen.');
  else if (error instanceof StorageUnreachableError) console.log('Still offline after ten minutes.');
  else throw error;
}
storage.dispose();
