// @ts-check
// A second factor from an app: set up an authenticator app (TOTP), then log in with the
// password and a code. The device token the TVM hands back is kept, so a stranger's wrong
// passwords never lock this device out.
import { SecondFactorRequiredError, TvmClient, TvmMfa } from '@serverless-tvm/client';
// Stands in for the person's authenticator app; an app never computes codes itself.
import { Secret, TOTP } from 'otpauth';

// Your app's persistent storage (AsyncStorage, the Keychain, localStorage): the device token
// outlives logout on purpose; it identifies this device, and opens nothing by itself.
const saved = new Map();
const deviceTokens = {
  load: (/** @type {string} */ user) => saved.get(user),
  save: (/** @type {string} */ user, /** @type {string} */ token) => void saved.set(user, token),
};

const tvm = new TvmClient({
  baseUrl: process.env.TVM_API_URL ?? 'http://127.0.0.1:3000',
  device: 'laptop',
  deviceTokens,
});
const mfa = new TvmMfa(tvm);
const username = `carol-${Date.now()}`;
const password = 'correct horse battery staple';
await tvm.register(username, password);

// Setting one up takes the current password (step-up); show `otpauthUri` as a QR code.
const { secret, otpauthUri } = await mfa.startTotp(password);
console.log('scan', otpauthUri.slice(0, 15));
const authenticator = new TOTP({ secret: Secret.fromBase32(secret) });
const recoveryCodes = await mfa.confirmTotp(authenticator.generate());
console.log('recovery codes to show once:', recoveryCodes.length);
await tvm.logout();

// Each code works once, and confirming used this one: wait for the app's next code (at most 30 s).
await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 200));

try {
  await tvm.login(username, password);
} catch (error) {
  // The password was right; the TVM asks for the second factor instead of opening a session.
  if (!(error instanceof SecondFactorRequiredError) || !error.challenge) throw error;
  console.log('second factor required:', error.challenge.methods.join(', '));
  await mfa.completeLogin(error.challenge, { code: authenticator.generate() });
  // Lost phone: `{ recoveryCode: recoveryCodes[0] }` instead, once per code.
}
console.log('signed in as', (await tvm.getSession())?.username === username ? 'carol' : 'nobody');
console.log('device token kept:', saved.get(username)?.length, 'characters');
console.log('authenticator set up:', (await mfa.status()).totp.enrolled);
await tvm.logout();
