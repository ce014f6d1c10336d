// @ts-check
// Alice shares her photos/ folder with bob, read-only, for a week; bob opens it with the
// share's own credentials; alice makes a link to one file; then she revokes both.
import { TvmClient, TvmLinks, TvmShares, UsernameTakenError } from '@serverless-tvm/client';
import { ShareStorage, TvmStorage } from '@serverless-tvm/client/storage';

const baseUrl = process.env.TVM_API_URL ?? 'http://127.0.0.1:3000';
const alice = new TvmClient({ baseUrl });
await alice.login('alice', 'correct horse battery staple');
const bob = new TvmClient({ baseUrl });
try {
  await bob.register('bob', 'bob also likes long passwords');
} catch (error) {
  if (!(error instanceof UsernameTakenError)) throw error;
  await bob.login('bob', 'bob also likes long passwords');
}

const files = new TvmStorage({ client: alice });
await files.upload('photos/cat.txt', 'a photo of a cat', { contentType: 'text/plain' }).done;

const shares = new TvmShares(alice);
const share = await shares.create({
  path: 'photos/',
  grantee: 'bob',
  access: 'read',
  expiresAt: new Date(Date.now() + 7 * 86_400_000),
});
console.log('shared', share.path, 'with', share.grantee, 'until', share.expiresAt);

// Bob finds it among the shares he received, and opens it by names relative to photos/.
const { received } = await new TvmShares(bob).list();
const mine = received.find((entry) => entry.owner === 'alice' && entry.path === 'photos/');
if (!mine) throw new Error('bob sees no share from alice');
const shared = new ShareStorage({ client: bob, shareId: mine.id, share: { expiresAt: mine.expiresAt } });
const page = await shared.list();
console.log(
  'bob sees',
  page.files.map((file) => file.name),
);
console.log('cat.txt says', await (await shared.download('cat.txt')).body.transformToString());
try {
  await shared.upload('dog.txt', 'woof').done;
} catch (error) {
  console.log('bob cannot write:', /** @type {Error} */ (error).name); // ReadOnlyShareError, nothing sent
}

// A link to one file: whoever has the URL can download it, until it is revoked or ends.
const links = new TvmLinks(alice);
const link = await links.create({ path: 'photos/cat.txt' });
console.log('the link serves:', await (await fetch(link.url)).text());
await links.revoke(link.id);
console.log('revoked link answers', (await fetch(link.url)).status);

await shares.revoke(share.id);
try {
  await new ShareStorage({ client: bob, shareId: mine.id }).list();
} catch (error) {
  console.log('after the revoke bob gets', /** @type {{ code?: string }} */ (error).code); // share_ended
}
shared.dispose();
files.dispose();
