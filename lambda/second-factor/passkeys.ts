/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: registration and authentication options,
 * and verification of what the browser answers. The relying party (id and origins) comes from
 * the settings table; the challenges are stored by the caller and used once.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { generateKeyPairSync } from 'node:crypto';
import type { Username } from '../accounts/username';
import type { PasskeyRecord } from './ports';
import { TOTP_ISSUER } from './totp';
import { PasskeysNotConfiguredError } from '../platform/errors';

/** Where passkeys are valid: the relying party id (a domain) and the page origins that may use it. */
export interface RelyingParty {
  readonly id: string;
  readonly origins: readonly string[];
}

/**
 * Signature algorithms offered: Ed25519, ES256 and RS256, what authenticators implement. The
 * post-quantum ML-DSA ones the library also knows sign with 2.4 KB or more, which would not
 * fit the API's 4 KiB bodies.
 */
const SUPPORTED_ALGORITHMS = [-8, -7, -257];

type WebAuthnLibrary = typeof import('@simplewebauthn/server');
let loadedLibrary: Promise<WebAuthnLibrary> | undefined;

/**
 * The library, loaded on first use. Every function bundles this module (they share one
 * runtime), but only a passkey ceremony needs the library: a few hundred KB of code that the
 * other functions' cold starts then never evaluate.
 */
function webAuthn(): Promise<WebAuthnLibrary> {
  loadedLibrary ??= import('@simplewebauthn/server');
  return loadedLibrary;
}

/** How long a browser has to answer a WebAuthn ceremony, in ms. */
export const PASSKEY_CEREMONY_MS = 5 * 60_000;

/** Options for `navigator.credentials.create`, and the challenge to store until the answer. */
export async function passkeyRegistrationOptions(
  rp: RelyingParty,
  user: { readonly username: Username; readonly userId: string },
  existing: readonly PasskeyRecord[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return (await webAuthn()).generateRegistrationOptions({
    rpName: TOTP_ISSUER,
    rpID: rp.id,
    userName: user.username,
    // The registration's random id, not the name: authenticators may show or sync the handle.
    userID: new TextEncoder().encode(user.userId),
    attestationType: 'none',
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    timeout: PASSKEY_CEREMONY_MS,
    excludeCredentials: existing.map((passkey) => ({
      id: passkey.id,
      ...(passkey.transports ? { transports: [...passkey.transports] } : {}),
    })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

/** The new passkey if `response` answers `challenge` for this relying party; undefined otherwise. */
export async function verifyPasskeyRegistration(
  rp: RelyingParty,
  response: unknown,
  challenge: string,
): Promise<Omit<PasskeyRecord, 'name' | 'createdAt'> | undefined> {
  try {
    const result = await (await webAuthn()).verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserVerification: false,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    if (!result.verified) return undefined;
    const { credential } = result.registrationInfo;
    return {
      id: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      ...(credential.transports ? { transports: [...credential.transports] } : {}),
    };
  } catch {
    // A malformed or forged answer is a wrong answer: the library's text never reaches a client.
    return undefined;
  }
}

/**
 * Options for `navigator.credentials.get`; `allowed` empty means any passkey of this site
 * (passwordless, where the passkey is the only factor and must verify the person: PIN or biometrics).
 */
export async function passkeyAuthenticationOptions(
  rp: RelyingParty,
  allowed: readonly PasskeyRecord[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return (await webAuthn()).generateAuthenticationOptions({
    rpID: rp.id,
    timeout: PASSKEY_CEREMONY_MS,
    userVerification: allowed.length === 0 ? 'required' : 'preferred',
    allowCredentials: allowed.map((passkey) => ({
      id: passkey.id,
      ...(passkey.transports ? { transports: [...passkey.transports] } : {}),
    })),
  });
}

/** The id a passkey answer claims to be from, if it has the shape of one. */
export function passkeyIdOf(response: unknown): string | undefined {
  const id = typeof response === 'object' && response !== null ? (response as { id?: unknown }).id : undefined;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,1024}$/.test(id) ? id : undefined;
}

/**
 * The registration id an answer's `userHandle` names (registration sets it to the UTF-8 of
 * the user's `userId`), if the authenticator sent one; undefined otherwise.
 */
export function passkeyUserHandleOf(response: unknown): string | undefined {
  const inner =
    typeof response === 'object' && response !== null ? (response as { response?: unknown }).response : undefined;
  const handle =
    typeof inner === 'object' && inner !== null ? (inner as { userHandle?: unknown }).userHandle : undefined;
  if (typeof handle !== 'string' || handle.length === 0) return undefined;
  // Anything that is not base64url names no registration: it can never equal a userId.
  return /^[A-Za-z0-9_-]+$/.test(handle) ? Buffer.from(handle, 'base64url').toString('utf8') : '\u0000';
}

let dummyPublicKey: string | undefined;

/**
 * A COSE ES256 public key nobody holds the private key of (made once per process): an answer
 * for a credential id nobody registered is checked against it, so it costs what a forged
 * answer for a registered id costs, and fails the same way.
 */
function dummyKey(): string {
  if (dummyPublicKey === undefined) {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const coordinate = (value: string | undefined) => [0x58, 0x20, ...Buffer.from(value ?? '', 'base64url')];
    // CBOR map {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
    const cose = [0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, ...coordinate(jwk.x), 0x22, ...coordinate(jwk.y)];
    dummyPublicKey = Buffer.from(cose).toString('base64url');
  }
  return dummyPublicKey;
}

/**
 * The same work as {@link verifyPasskeyAuthentication} for an answer whose credential id is
 * not registered (or not usable): a signature check against a key nobody holds. Always undefined.
 */
export async function verifyAgainstDummyPasskey(
  rp: RelyingParty,
  response: unknown,
  challenge: string,
  requireUserVerification: boolean,
): Promise<undefined> {
  const id = passkeyIdOf(response) ?? 'AAAA';
  await verifyPasskeyAuthentication(
    rp,
    response,
    challenge,
    { id, publicKey: dummyKey(), counter: 0, name: '', createdAt: 0 },
    requireUserVerification,
  );
  return undefined;
}

/**
 * The passkey's new signature counter if `response` is its signature over `challenge`;
 * undefined otherwise. A counter that did not grow (a cloned authenticator) is refused,
 * except that authenticators without a counter always send 0.
 */
export async function verifyPasskeyAuthentication(
  rp: RelyingParty,
  response: unknown,
  challenge: string,
  passkey: PasskeyRecord,
  requireUserVerification = false,
): Promise<number | undefined> {
  try {
    const result = await (await webAuthn()).verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      credential: {
        id: passkey.id,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: passkey.counter,
        ...(passkey.transports ? { transports: [...passkey.transports] } : {}),
      },
      requireUserVerification,
    });
    return result.verified ? result.authenticationInfo.newCounter : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a passkey route where this TVM has no real relying party (the `passkeys` setting is
 * off: outside `dev` until the operator sets `passkeyRpId` and `passkeyOrigins`), with a 404
 * that says so, before any other work.
 */
export function requirePasskeys(config: { readonly passkeys: boolean }): void {
  if (!config.passkeys) throw new PasskeysNotConfiguredError();
}
