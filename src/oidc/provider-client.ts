// The one place that talks to the OpenID provider, through openid-client 6: discovery, the
// device authorization grant (one poll at a time — the schedule belongs to the state machine),
// the authorization code grant with PKCE, and a credentials probe for `gatehouse oidc check`.
// Every ID token additionally passes our own full validation (id-token.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import * as oidc from 'openid-client';
import { identityFromClaims, type OidcIdentity } from './claims.js';
import type { OidcConfig, Secret } from './config.js';
import type { DeviceAuthorization, PollOutcome } from './device-flow-machine.js';
import { printable } from './device-flow-machine.js';
import { IdTokenError, type IdTokenRejection, idTokenUserMessage, OidcLoginError } from './errors.js';
import { verifyIdToken } from './id-token.js';
import { JwksCache } from './jwks-cache.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * openid-client takes no AbortSignal per grant request, only its own timeout; the caller's signal
 * rides along in async context and the fetch below honours both, so a device sign-in that is
 * cancelled (the SSH client went away) also ends the token request it has in flight.
 */
const callerSignal = new AsyncLocalStorage<AbortSignal>();

function abortableFetch(base: oidc.CustomFetch | undefined): oidc.CustomFetch {
  return (url, options) => {
    const extra = callerSignal.getStore();
    const signal = extra === undefined ? options.signal : options.signal === undefined ? extra : AbortSignal.any([options.signal, extra]);
    const merged: oidc.CustomFetchOptions = signal === undefined ? options : { ...options, signal };
    return base === undefined ? fetch(url, merged as RequestInit) : base(url, merged);
  };
}

function withSignal<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  return signal === undefined ? run() : callerSignal.run(signal, run);
}

export interface OidcClientOptions {
  readonly config: OidcConfig;
  readonly clientSecret: Secret | undefined;
  /** Replaces global fetch for every provider request (tests, proxies). */
  readonly fetch?: oidc.CustomFetch;
  readonly now?: () => number;
  /** Floor between JWKS refreshes caused by unknown key ids (default 30 s). */
  readonly jwksMinRefreshIntervalMs?: number;
}

export interface CredentialsCheck {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly deviceAuthorizationEndpoint: string | undefined;
  readonly authorizationEndpoint: string | undefined;
  readonly supportsPkceS256: boolean;
  readonly jwksKeys: number;
  /** `accepted` when the token endpoint authenticated the client (it then rejected our dummy code). */
  readonly credentials: 'accepted' | 'rejected' | 'unknown';
  readonly credentialsDetail: string;
}

function isTransportError(err: unknown): boolean {
  if (err instanceof oidc.ClientError) return err.code === 'OAUTH_TIMEOUT' || err.code === 'OAUTH_ABORT' || err.message === 'something went wrong';
  return err instanceof TypeError && /fetch failed|network|ECONNREFUSED|ECONNRESET/i.test(`${err.message} ${String(err.cause)}`);
}

const CLAIM_REASONS: Record<string, IdTokenRejection> = { aud: 'audience', iss: 'issuer', azp: 'azp', nonce: 'nonce', exp: 'expired', iat: 'issued-in-future', nbf: 'not-yet-valid', sub: 'subject' };

/** openid-client's own ID token checks fail with coded ClientErrors (codes from oauth4webapi); give them our reasons. */
function idTokenErrorFromClient(err: unknown): IdTokenError | undefined {
  if (!(err instanceof oidc.ClientError)) return undefined;
  // The ClientError wraps oauth4webapi's OperationProcessingError, whose cause names the claim.
  const inner = err.cause as { message?: unknown; cause?: { claim?: unknown } } | undefined;
  const claim = inner?.cause?.claim;
  const what = typeof inner?.message === 'string' ? inner.message : err.message;
  switch (err.code) {
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      return new IdTokenError((typeof claim === 'string' ? CLAIM_REASONS[claim] : undefined) ?? 'malformed', what);
    case 'OAUTH_INVALID_RESPONSE':
    case 'OAUTH_PARSE_ERROR':
      return /"alg"/.test(what) ? new IdTokenError('alg-not-allowed', what) : /JWT|ID Token/i.test(what) ? new IdTokenError('malformed', what) : undefined;
    case 'OAUTH_UNSUPPORTED_OPERATION':
      return /JWS|alg/i.test(what) ? new IdTokenError('alg-not-allowed', what) : undefined;
    default:
      return undefined;
  }
}

export function invalidTokenFailure(err: IdTokenError): OidcLoginError {
  return new OidcLoginError('invalid-token', idTokenUserMessage(err), `ID token rejected (${err.reason}): ${err.message}`, { cause: err });
}

function providerFailure(err: unknown, what: string): OidcLoginError {
  if (err instanceof OidcLoginError) return err;
  const idErr = err instanceof IdTokenError ? err : idTokenErrorFromClient(err);
  if (idErr !== undefined) return invalidTokenFailure(idErr);
  if (isTransportError(err)) {
    return new OidcLoginError('unreachable', 'Sign-in failed: the identity provider cannot be reached. Try again later.', `${what}: ${(err as Error).message}`, { cause: err });
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // RFC 6749 §5.2: a 401 with a challenge from the token endpoint means our client authentication failed.
    return new OidcLoginError('provider-error', 'Sign-in is misconfigured at the gateway. Tell an administrator.', `${what}: HTTP ${err.status}, client credentials rejected`, { cause: err });
  }
  if (err instanceof oidc.ResponseBodyError) {
    const desc = err.error_description === undefined ? '' : ` (${printable(err.error_description, 200)})`;
    return new OidcLoginError('provider-error', `Sign-in failed: the identity provider answered "${printable(err.error, 64)}".`, `${what}: ${err.error}${desc}`, { cause: err });
  }
  return new OidcLoginError('provider-error', 'Sign-in failed: unexpected answer from the identity provider.', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export class OidcClient {
  readonly #opts: OidcClientOptions;
  readonly #configuration: oidc.Configuration;
  readonly #jwks: JwksCache;

  private constructor(opts: OidcClientOptions, configuration: oidc.Configuration, jwks: JwksCache) {
    this.#opts = opts;
    this.#configuration = configuration;
    this.#jwks = jwks;
  }

  /** Discover the provider (OIDC Discovery §4). Rejects with OidcLoginError ('unreachable' | 'provider-error'). */
  static async discover(opts: OidcClientOptions): Promise<OidcClient> {
    const { config, clientSecret } = opts;
    const auth = clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret.reveal());
    const execute = config.allowInsecureHttp ? [oidc.allowInsecureRequests] : [];
    let configuration: oidc.Configuration;
    try {
      configuration = await oidc.discovery(
        config.issuer,
        config.clientId,
        { [oidc.clockTolerance]: config.clockSkewSeconds },
        auth,
        { execute, timeout: config.httpTimeoutSeconds, [oidc.customFetch]: abortableFetch(opts.fetch) },
      );
    } catch (err) {
      throw providerFailure(err, `discovery of ${config.issuer.href}`);
    }
    const meta = configuration.serverMetadata();
    if (meta.jwks_uri === undefined) throw new OidcLoginError('provider-error', 'Sign-in is misconfigured: the identity provider publishes no keys.', 'discovery document has no jwks_uri');
    const jwks = new JwksCache({
      jwksUri: new URL(meta.jwks_uri),
      timeoutMs: config.httpTimeoutSeconds * 1000,
      ...(opts.jwksMinRefreshIntervalMs === undefined ? {} : { minRefreshIntervalMs: opts.jwksMinRefreshIntervalMs }),
      ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
      ...(opts.now === undefined ? {} : { now: opts.now }),
    });
    return new OidcClient(opts, configuration, jwks);
  }

  get issuer(): string {
    return this.#configuration.serverMetadata().issuer;
  }

  get config(): OidcConfig {
    return this.#opts.config;
  }

  get supportsDeviceFlow(): boolean {
    return this.#configuration.serverMetadata().device_authorization_endpoint !== undefined;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  /** RFC 8628 §3.1–3.2. `signal` aborts the request (the SSH client went away). */
  async startDeviceAuthorization(signal?: AbortSignal): Promise<DeviceAuthorization> {
    if (!this.supportsDeviceFlow) throw new OidcLoginError('provider-error', 'Sign-in is not available: the identity provider does not offer device sign-in.', 'no device_authorization_endpoint in discovery');
    let r: oidc.DeviceAuthorizationResponse;
    try {
      r = await withSignal(signal, () => oidc.initiateDeviceAuthorization(this.#configuration, { scope: this.#opts.config.scopes.join(' ') }));
    } catch (err) {
      throw providerFailure(err, 'device authorization request');
    }
    return {
      deviceCode: r.device_code,
      userCode: r.user_code,
      verificationUri: r.verification_uri,
      verificationUriComplete: r.verification_uri_complete,
      expiresInSeconds: r.expires_in,
      intervalSeconds: r.interval,
    };
  }

  /** One device access token request (RFC 8628 §3.4), classified for the state machine. `signal` aborts it. */
  async pollDeviceToken(deviceCode: string, signal?: AbortSignal): Promise<PollOutcome> {
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await withSignal(signal, () => oidc.genericGrantRequest(this.#configuration, DEVICE_CODE_GRANT, { device_code: deviceCode }));
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError) {
        switch (err.error) {
          case 'authorization_pending':
            return { type: 'pending' };
          case 'slow_down':
            return { type: 'slow-down' };
          case 'access_denied':
            return { type: 'access-denied', description: err.error_description };
          case 'expired_token':
            return { type: 'expired-token' };
        }
      }
      if (isTransportError(err)) return { type: 'transport-error', message: (err as Error).message };
      return { type: 'failed', error: providerFailure(err, 'device token request') };
    }
    try {
      return { type: 'tokens', identity: await this.identityFromIdToken(tokens.id_token, undefined) };
    } catch (err) {
      return { type: 'failed', error: providerFailure(err, 'device token response') };
    }
  }

  /** Full validation of an ID token (see id-token.ts), then the claim mapping. */
  async identityFromIdToken(idToken: string | undefined, nonce: string | undefined): Promise<OidcIdentity> {
    if (idToken === undefined) throw invalidTokenFailure(new IdTokenError('malformed', 'the token response carries no ID token (is "openid" among the scopes?)'));
    const c = this.#opts.config;
    let claims: Awaited<ReturnType<typeof verifyIdToken>>;
    try {
      claims = await verifyIdToken(idToken, {
        issuer: this.issuer,
        clientId: c.clientId,
        nonce,
        nowSeconds: Math.floor(this.#now() / 1000),
        clockSkewSeconds: c.clockSkewSeconds,
        maxAgeSeconds: c.maxTokenAgeSeconds,
        keys: this.#jwks,
        allowHmac: c.allowHmacIdTokens,
        clientSecret: this.#opts.clientSecret,
      });
    } catch (err) {
      if (err instanceof IdTokenError) throw invalidTokenFailure(err);
      throw err;
    }
    return identityFromClaims(claims, c);
  }

  /** The authorization request URL for the web sign-in (OIDC Core §3.1.2.1, RFC 7636 §4.3). */
  authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): URL {
    return oidc.buildAuthorizationUrl(this.#configuration, {
      redirect_uri: p.redirectUri,
      scope: this.#opts.config.scopes.join(' '),
      response_type: 'code',
      state: p.state,
      nonce: p.nonce,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
    });
  }

  /** Redeem the callback's code with the PKCE verifier; checks state and nonce. */
  async exchangeCode(callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string; redirectUri: string }): Promise<OidcIdentity> {
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await oidc.authorizationCodeGrant(
        this.#configuration,
        callbackUrl,
        { expectedState: checks.state, expectedNonce: checks.nonce, pkceCodeVerifier: checks.codeVerifier, idTokenExpected: true },
        { redirect_uri: checks.redirectUri },
      );
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError && err.error === 'access_denied') {
        throw new OidcLoginError('access-denied', 'Sign-in was declined at the identity provider. Access denied.', `authorization response: access_denied`);
      }
      throw providerFailure(err, 'authorization code grant');
    }
    return this.identityFromIdToken(tokens.id_token, checks.nonce);
  }

  /** For `gatehouse oidc check`: metadata, keys, and whether the token endpoint accepts our credentials. */
  async checkCredentials(): Promise<CredentialsCheck> {
    const meta = this.#configuration.serverMetadata();
    // Let a JWKS failure surface: without keys no sign-in can succeed.
    const jwksKeys = await this.#jwks.refreshNow();
    let credentials: CredentialsCheck['credentials'] = 'unknown';
    let credentialsDetail = '';
    try {
      // RFC 6749 §5.2: the server authenticates the client before looking at the grant, so a
      // made-up code gives invalid_grant with good credentials and invalid_client with bad ones.
      await oidc.genericGrantRequest(this.#configuration, 'authorization_code', { code: 'gatehouse-oidc-check-invalid-code', redirect_uri: 'http://127.0.0.1/gatehouse-check' });
      credentialsDetail = 'the token endpoint accepted a made-up code (!)';
    } catch (err) {
      if (err instanceof oidc.WWWAuthenticateChallengeError) {
        credentials = 'rejected';
        credentialsDetail = `token endpoint answered HTTP ${err.status} with a ${err.cause.map((c) => c.scheme).join('/')} challenge`;
      } else if (err instanceof oidc.ResponseBodyError) {
        credentials = err.error === 'invalid_client' || err.error === 'unauthorized_client' ? 'rejected' : 'accepted';
        credentialsDetail = `token endpoint answered ${err.error} to a made-up code`;
      } else {
        credentialsDetail = providerFailure(err, 'token endpoint probe').detail;
      }
    }
    return {
      issuer: meta.issuer,
      tokenEndpoint: meta.token_endpoint ?? '(none)',
      deviceAuthorizationEndpoint: meta.device_authorization_endpoint,
      authorizationEndpoint: meta.authorization_endpoint,
      supportsPkceS256: meta.code_challenge_methods_supported?.includes('S256') ?? false,
      jwksKeys,
      credentials,
      credentialsDetail,
    };
  }
}
