// Typed errors of the OIDC module. Two audiences: operators read `message`/`detail` in logs,
// users read `userMessage` in their SSH client or browser — never a secret in either.

/** Bad or incomplete `oidc:` configuration, or an unreadable client secret. */
export class OidcConfigError extends Error {
  override readonly name = 'OidcConfigError';
}

/** Why a sign-in did not produce an identity. Each kind has a user-facing message. */
export type OidcFailureKind =
  | 'access-denied' // the user (or the provider's policy) refused consent — RFC 8628 §3.5
  | 'expired' // the device code or the login attempt ran out of time — RFC 8628 §3.5
  | 'invalid-token' // the ID token failed validation (issuer, audience, signature, times…)
  | 'claim-missing' // the configured user-name claim is absent or unusable
  | 'provider-error' // the provider answered with an OAuth error we cannot recover from
  | 'unreachable' // network failure or timeout talking to the provider
  | 'cancelled'; // the SSH connection went away or the caller cancelled

export class OidcLoginError extends Error {
  override readonly name = 'OidcLoginError';
  constructor(
    readonly kind: OidcFailureKind,
    /** Safe to show to the person signing in. */
    readonly userMessage: string,
    /** For the operator's log; never contains tokens or secrets. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${detail}`, options);
  }

  /** HTTP status for the web sign-in routes. */
  get httpStatus(): number {
    switch (this.kind) {
      case 'access-denied':
      case 'invalid-token':
      case 'claim-missing':
        return 403;
      case 'expired':
        return 410;
      case 'provider-error':
      case 'unreachable':
        return 502;
      case 'cancelled':
        return 499;
      default: {
        const never: never = this.kind;
        throw new Error(String(never));
      }
    }
  }
}

/** A failed check of an ID token; `reason` is stable for tests and metrics. */
export type IdTokenRejection =
  | 'malformed'
  | 'alg-none'
  | 'alg-not-allowed'
  | 'hmac-not-allowed'
  | 'unknown-key'
  | 'bad-signature'
  | 'issuer'
  | 'audience'
  | 'azp'
  | 'expired'
  | 'issued-in-future'
  | 'not-yet-valid'
  | 'too-old'
  | 'nonce'
  | 'subject';

export class IdTokenError extends Error {
  override readonly name = 'IdTokenError';
  constructor(
    readonly reason: IdTokenRejection,
    message: string,
  ) {
    super(message);
  }
}

/** The key-binding store file is unreadable or not what we wrote. */
export class KeyBindingStoreError extends Error {
  override readonly name = 'KeyBindingStoreError';
}

/** What a user sees for each ID token rejection: short, and pointing at the cause. */
export function idTokenUserMessage(err: IdTokenError): string {
  switch (err.reason) {
    case 'audience':
    case 'azp':
      return 'Sign-in refused: the identity provider issued the token for a different application (audience mismatch).';
    case 'issuer':
      return 'Sign-in refused: the token comes from an unexpected identity provider (issuer mismatch).';
    case 'unknown-key':
    case 'bad-signature':
    case 'alg-none':
    case 'alg-not-allowed':
    case 'hmac-not-allowed':
      return 'Sign-in refused: the token signature is not valid for this identity provider.';
    case 'expired':
    case 'issued-in-future':
    case 'not-yet-valid':
    case 'too-old':
      return 'Sign-in refused: the token is outside its validity period (check the clocks).';
    case 'nonce':
      return 'Sign-in refused: the token does not belong to this sign-in (nonce mismatch).';
    case 'malformed':
    case 'subject':
      return 'Sign-in refused: the identity provider returned a malformed token.';
    default: {
      const never: never = err.reason;
      throw new Error(String(never));
    }
  }
}
