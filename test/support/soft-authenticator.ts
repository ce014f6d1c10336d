/**
 * A software WebAuthn authenticator (ES256, attestation `none`) for tests that run real
 * passkey ceremonies in Node: it answers registration and authentication options with what a
 * browser would send, signed with its own key, and can be told to claim any credential id or
 * user handle, as a hostile authenticator can.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

/** CBOR head of a major type with a length (RFC 8949 3.1), for the few shapes needed here. */
function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 256) return Buffer.from([(major << 5) | 24, length]);
  return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
}
const cborBytes = (bytes: Buffer) => Buffer.concat([head(2, bytes.length), bytes]);
const cborText = (text: string) => Buffer.concat([head(3, Buffer.byteLength(text)), Buffer.from(text)]);

/** One authenticator holding one key pair; `id` is its credential id (base64url). */
export class SoftAuthenticator {
  readonly id: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private counter = 0;
  /** An authenticator without a signature counter: it sends 0 every time (many platform passkeys do). */
  private readonly withoutCounter: boolean;

  constructor(options: { id?: string; counter?: number; withoutCounter?: boolean } = {}) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.id = options.id ?? randomBytes(16).toString('base64url');
    this.counter = options.counter ?? 0;
    this.withoutCounter = options.withoutCounter ?? false;
  }

  /** A copy holding the same key and counter: what a cloned authenticator would be. */
  clone(): SoftAuthenticator {
    return Object.assign(Object.create(SoftAuthenticator.prototype) as SoftAuthenticator, this);
  }

  /** The COSE form of the public key. */
  private coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21]),
      cborBytes(Buffer.from(jwk.x!, 'base64url')),
      Buffer.from([0x22]),
      cborBytes(Buffer.from(jwk.y!, 'base64url')),
    ]);
  }

  private authData(rpId: string, flags: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** The answer of `navigator.credentials.create` to registration options (as JSON). */
  register(options: { challenge: string; rp: { id?: string } }, origin: string): object {
    const rpId = options.rp.id ?? new URL(origin).hostname;
    const credentialId = Buffer.from(this.id, 'base64url');
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, credentialId, this.coseKey()]);
    // User present, user verified, attested credential data included.
    const authData = this.authData(rpId, 0x01 | 0x04 | 0x40, attested);
    const attestationObject = Buffer.concat([
      Buffer.from([0xa3]),
      cborText('fmt'),
      cborText('none'),
      cborText('attStmt'),
      Buffer.from([0xa0]),
      cborText('authData'),
      cborBytes(authData),
    ]);
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.create',
      challenge: options.challenge,
      origin,
      crossOrigin: false,
    });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: Buffer.from(clientDataJSON).toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    };
  }

  /**
   * The answer of `navigator.credentials.get` to `challenge` (as JSON), signed by this key,
   * claiming `as.id` (default its own id) and `as.userHandle` (the UTF-8 of a userId) if given.
   */
  assert(
    challenge: string,
    origin: string,
    as: { id?: string; userHandle?: string; userVerified?: boolean; rpId?: string } = {},
  ): object {
    if (!this.withoutCounter) this.counter += 1;
    const rpId = as.rpId ?? new URL(origin).hostname;
    const authData = this.authData(rpId, 0x01 | (as.userVerified === false ? 0 : 0x04));
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    const id = as.id ?? this.id;
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(as.userHandle !== undefined ? { userHandle: Buffer.from(as.userHandle).toString('base64url') } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
