/**
 * Every request body, declared once with TypeBox. From each declaration come the API Gateway
 * request model (lib/tvm-api.ts), the sandbox's validation (local/api-gateway/body-validator.ts, ajv), the
 * check in the function (lambda/platform/body-check.ts, ajv, run by the middleware in
 * lambda/handlers/http.ts) and the type the handler receives
 * (`Static<>`). Only JSON objects of string fields with length bounds: that is all the draft-4
 * subset API Gateway models take here, and the validators count lengths in characters (code
 * points), as API Gateway does. What a field means (NFKC, lower case, a code's digits, a
 * printable label) is the domain's to check (each capability's requests.ts).
 */
// Named imports, not the `Type` namespace: esbuild then bundles only these builders (3 KB, not 46 KB).
import {
  Object as TypeObject,
  Optional,
  String as TypeString,
  type Static,
  type TObject,
  type TOptional,
  type TString,
} from '@sinclair/typebox';
import {
  CHALLENGE_TOKEN_CHARACTERS,
  DEVICE_MAX_CHARACTERS,
  DEVICE_TOKEN_CHARACTERS,
  EXPIRES_AT_MAX_CHARACTERS,
  INVITE_CODE_CHARACTERS,
  OIDC_ID_TOKEN_MAX_CHARACTERS,
  OIDC_PROVIDER_NAME_MAX_CHARACTERS,
  PASSKEY_NAME_MAX_CHARACTERS,
  PASSKEY_RESPONSE_MAX_CHARACTERS,
  PASSWORD_MAX_BYTES,
  RECOVERY_CODE_CHARACTERS,
  RECOVERY_CODE_INPUT_MAX_CHARACTERS,
  RESET_CODE_CHARACTERS,
  RESET_CODE_INPUT_MAX_CHARACTERS,
  SHARE_PATH_MAX_BYTES,
  TOTP_CODE_INPUT_MAX_CHARACTERS,
  TOTP_DIGITS,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
} from './limits';

/** A request body's declaration: an object of string fields, some optional, and no others. */
export type BodySchema = TObject<Record<string, TString | TOptional<TString>>>;

/** A closed object: API Gateway, the sandbox and the function all refuse unknown fields. */
function body<T extends Record<string, TString | TOptional<TString>>>(properties: T): TObject<T> {
  return TypeObject(properties, { additionalProperties: false });
}

const username = () => TypeString({ minLength: USERNAME_MIN_LENGTH, maxLength: USERNAME_MAX_LENGTH });
// A schema counts characters, and a character is at least one UTF-8 byte, so the byte limit
// bounds the characters too; the domain checks the bytes after normalisation.
const password = () => TypeString({ minLength: 1, maxLength: PASSWORD_MAX_BYTES });
// A device label: the domain trims it and checks it is printable.
const device = () => Optional(TypeString({ minLength: 1, maxLength: DEVICE_MAX_CHARACTERS }));
const totpCode = () => TypeString({ minLength: TOTP_DIGITS, maxLength: TOTP_CODE_INPUT_MAX_CHARACTERS });
const recoveryCode = () =>
  TypeString({ minLength: RECOVERY_CODE_CHARACTERS, maxLength: RECOVERY_CODE_INPUT_MAX_CHARACTERS });
/** A WebAuthn answer as JSON text (the models hold strings only); the domain parses it. */
const passkeyResponse = () => TypeString({ minLength: 2, maxLength: PASSKEY_RESPONSE_MAX_CHARACTERS });
const challenge = () => TypeString({ minLength: CHALLENGE_TOKEN_CHARACTERS, maxLength: CHALLENGE_TOKEN_CHARACTERS });

/** The second-factor proofs of a step-up; a passkey answers a `POST /login/passkey/options` challenge (docs/mfa.md). */
const stepUpFactors = () => ({
  code: Optional(totpCode()),
  recoveryCode: Optional(recoveryCode()),
  passkey: Optional(passkeyResponse()),
  challenge: Optional(challenge()),
});

/** An invite code (`registration` = invite; docs/api.md#register): the domain checks its alphabet. */
const invite = () => Optional(TypeString({ minLength: INVITE_CODE_CHARACTERS, maxLength: INVITE_CODE_CHARACTERS }));

/** `POST /register`; `invite` only where the `registration` setting is `invite`. */
export const RegisterBody = body({ username: username(), password: password(), device: device(), invite: invite() });
export type RegisterBody = Static<typeof RegisterBody>;

/** `POST /login`; `deviceToken` is the one a previous login returned, if the app kept it. */
export const LoginBody = body({
  username: username(),
  password: password(),
  device: device(),
  deviceToken: Optional(TypeString({ minLength: DEVICE_TOKEN_CHARACTERS, maxLength: DEVICE_TOKEN_CHARACTERS })),
});
export type LoginBody = Static<typeof LoginBody>;

/**
 * `POST /password`: with a second factor, also one of its proofs (the step-up fields; docs/mfa.md).
 * An account without a password (created by a provider sign-in) sets one without
 * `currentPassword`, with its second factor or a fresh ID token of a linked identity
 * (`provider`, `idToken`; docs/identities.md).
 */
export const PasswordChangeBody = body({
  currentPassword: Optional(password()),
  newPassword: password(),
  ...stepUpFactors(),
  provider: Optional(TypeString({ minLength: 1, maxLength: OIDC_PROVIDER_NAME_MAX_CHARACTERS })),
  idToken: Optional(TypeString({ minLength: 1, maxLength: OIDC_ID_TOKEN_MAX_CHARACTERS })),
});
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

/** `POST /password/reset`: `code` or `recoveryCode` is required by the domain when the account has a second factor. */
export const PasswordResetBody = body({
  username: username(),
  resetCode: TypeString({ minLength: RESET_CODE_CHARACTERS, maxLength: RESET_CODE_INPUT_MAX_CHARACTERS }),
  newPassword: password(),
  code: Optional(totpCode()),
  recoveryCode: Optional(recoveryCode()),
});
export type PasswordResetBody = Static<typeof PasswordResetBody>;

/**
 * A step-up (docs/mfa.md#step-up): one of `currentPassword`, `code`, `recoveryCode` or
 * `passkey`+`challenge`; which one is the domain's rule. Every field is optional, so the body
 * may be left out.
 */
export const StepUpBody = body({ currentPassword: Optional(password()), ...stepUpFactors() });
export type StepUpBody = Static<typeof StepUpBody>;

/**
 * A step-up that may also be a fresh ID token of an identity linked to the account (`provider`
 * + `idToken`): the proof of an account without a password (docs/api.md#sign-in-with-a-provider),
 * on the routes whose functions verify ID tokens.
 */
export const IdentityStepUpBody = body({
  currentPassword: Optional(password()),
  ...stepUpFactors(),
  provider: Optional(TypeString({ minLength: 1, maxLength: OIDC_PROVIDER_NAME_MAX_CHARACTERS })),
  idToken: Optional(TypeString({ minLength: 1, maxLength: OIDC_ID_TOKEN_MAX_CHARACTERS })),
});
export type IdentityStepUpBody = Static<typeof IdentityStepUpBody>;

/** `POST /mfa/totp/confirm`. */
export const TotpConfirmBody = body({ code: totpCode() });
export type TotpConfirmBody = Static<typeof TotpConfirmBody>;

/** `POST /login/mfa`: the challenge and one second factor. */
export const MfaLoginBody = body({
  challenge: challenge(),
  code: Optional(totpCode()),
  recoveryCode: Optional(recoveryCode()),
  passkey: Optional(passkeyResponse()),
});
export type MfaLoginBody = Static<typeof MfaLoginBody>;

/** `POST /mfa/passkeys`. */
export const PasskeyAddBody = body({
  credential: passkeyResponse(),
  name: Optional(TypeString({ minLength: 1, maxLength: PASSKEY_NAME_MAX_CHARACTERS })),
});
export type PasskeyAddBody = Static<typeof PasskeyAddBody>;

/** `POST /login/passkey`. */
export const PasskeyLoginBody = body({ challenge: challenge(), credential: passkeyResponse() });
export type PasskeyLoginBody = Static<typeof PasskeyLoginBody>;

/**
 * A path relative to the owner's folder; the domain checks its bytes, characters and shape
 * (lambda/sharing/share-path.ts). A character is at least one byte, so the byte limit bounds the characters.
 */
const sharePath = () => TypeString({ minLength: 0, maxLength: SHARE_PATH_MAX_BYTES });
/** ISO 8601; the domain checks it lies ahead and within the longest lifetime. */
const expiresAt = () => Optional(TypeString({ minLength: 1, maxLength: EXPIRES_AT_MAX_CHARACTERS }));

/** `POST /shares`: `access` is `read` or `readwrite` (the domain checks the value). */
export const ShareCreateBody = body({
  path: sharePath(),
  grantee: username(),
  access: TypeString({ minLength: 1, maxLength: 16 }),
  expiresAt: expiresAt(),
});
export type ShareCreateBody = Static<typeof ShareCreateBody>;

/** `POST /links`: one file of the caller's folder. */
export const LinkCreateBody = body({ path: sharePath(), expiresAt: expiresAt() });
export type LinkCreateBody = Static<typeof LinkCreateBody>;

const oidcProvider = () => TypeString({ minLength: 1, maxLength: OIDC_PROVIDER_NAME_MAX_CHARACTERS });
/** An ID token (a JWS in compact form); the domain checks its shape before anything else. */
const idToken = () => TypeString({ minLength: 1, maxLength: OIDC_ID_TOKEN_MAX_CHARACTERS });

/**
 * `POST /login/oidc`: an ID token from a configured provider; `username` only to create the
 * account on an identity's first sign-in. `device` and `deviceToken` as in `POST /login`.
 */
export const OidcLoginBody = body({
  provider: oidcProvider(),
  idToken: idToken(),
  username: Optional(username()),
  device: device(),
  deviceToken: Optional(TypeString({ minLength: DEVICE_TOKEN_CHARACTERS, maxLength: DEVICE_TOKEN_CHARACTERS })),
  // A new account's invite, as for `POST /register`.
  invite: invite(),
});
export type OidcLoginBody = Static<typeof OidcLoginBody>;

/** `POST /identities`: the identity to link, and the step-up of the signed-in account. */
export const IdentityLinkBody = body({
  provider: oidcProvider(),
  idToken: idToken(),
  currentPassword: Optional(password()),
  ...stepUpFactors(),
  // The step-up of an account without a password: a fresh ID token of an identity already linked.
  stepUpProvider: Optional(oidcProvider()),
  stepUpIdToken: Optional(idToken()),
});
export type IdentityLinkBody = Static<typeof IdentityLinkBody>;
