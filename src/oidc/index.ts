// OIDC sign-in for the gateway: the device flow inside keyboard-interactive, key bindings, and
// the web sign-in for certificates. `createOidcSignIn` wires the parts from the `oidc:` config.
//
// For the SSH side (keyboard-interactive hook and gateway):
//   const oidc = await createOidcSignIn({ oidc: config.oidc, stateDir: config.stateDir });
//   // 1. a key that was PROVEN (signature verified) may already stand for a signed-in identity:
//   const bound = await oidc.bindingForProvenKey(keyBlob);  // → policyIdentityFromKeyBinding(bound)
//   // 2. otherwise keyboard-interactive: one round, then wait for the result
//   const login = await oidc.deviceLogins.begin(clientAddress, newSessionTag());
//   //   INFO_REQUEST(login.round.name, login.instruction, login.prompts); on the reply:
//   const r = await login.result;  // { ok: true, identity } | { ok: false, error.userMessage }
//   //   on failure: one more round, failureRound(r.error), then refuse (the user sees why)
//   //   policy identity: policyIdentityFromDeviceLogin(r.identity)
//   // 3. bind the key proven earlier in this connection (never a key merely offered). OpenSSH
//   //    signs only with keys the server accepts, so to get a proof for an unknown key answer
//   //    PK_OK, verify the signature, then USERAUTH_FAILURE (RFC 4252 §7) so the client goes on
//   //    to its other keys (a certificate from `gatehouse login`) and to keyboard-interactive.
//   //    Not partial success: OpenSSH then resets its tried keys and offers the same key again.
//   if (r.ok && provenKeyBlob) await oidc.bindProvenKey(provenKeyBlob, r.identity);
//   // 4. when policy removes a user: await oidc.keyBindings.revokeUser(user), or after a reload
//   //    await oidc.keyBindings.revokeWhere((id) => !stillAdmitted(id))
import type { OidcIdentity } from './claims.js';
import { loadClientSecret, type OidcConfig, parseOidcConfig, type Secret } from './config.js';
import { OidcConfigError } from './errors.js';
import { DeviceLoginService, type DeviceLoginServiceOptions } from './device-flow.js';
import { type KeyBinding, KeyBindingStore } from './key-binding-store.js';
import { OidcClient } from './provider-client.js';
import { sha256Fingerprint } from './ssh-public-key.js';
import { type UserCertificateIssuer, WebLogin, type WebLoginOptions } from './web-login.js';

export type { ClaimMapping, OidcIdentity } from './claims.js';
export { identityFromClaims } from './claims.js';
export type { ClientSecretSource, OidcConfig } from './config.js';
export { loadClientSecret, OIDC_DEFAULTS, parseOidcConfig, Secret } from './config.js';
export type { DeviceLogin, DeviceLoginResult, DeviceLoginServiceOptions } from './device-flow.js';
export { DeviceLoginService, newSessionTag } from './device-flow.js';
export type { DeviceAuthorization, DeviceFlowStep, KeyboardInteractiveRound, PollOutcome } from './device-flow-machine.js';
export { DeviceFlowMachine, failureRound } from './device-flow-machine.js';
export type { IdTokenRejection, OidcFailureKind } from './errors.js';
export { IdTokenError, KeyBindingStoreError, OidcConfigError, OidcLoginError } from './errors.js';
export type { KeyBinding, KeyBindingStoreOptions } from './key-binding-store.js';
export { isFingerprint, KeyBindingStore } from './key-binding-store.js';
export { policyIdentityFromDeviceLogin, policyIdentityFromKeyBinding } from './policy-identity.js';
export type { CredentialsCheck, OidcClientOptions } from './provider-client.js';
export { OidcClient } from './provider-client.js';
export { parseCertificateLine, parsePublicKeyLine, PublicKeyLineError, sha256Fingerprint } from './ssh-public-key.js';
export type { UserCertificateIssuer, UserCertificateRequest, WebLoginOptions } from './web-login.js';
export { CALLBACK_PATH, groupsFromWebLoginKeyId, LOGIN_PATH, userCaIssuer, WEB_LOGIN_CERT_EXTENSIONS, WEB_LOGIN_KEY_ID_PREFIX, WebLogin, webLoginKeyId } from './web-login.js';

export interface OidcSignIn {
  readonly config: OidcConfig;
  readonly client: OidcClient;
  readonly deviceLogins: DeviceLoginService;
  readonly keyBindings: KeyBindingStore;
  /** The binding of a proven public key (its SSH wire blob), while it lives. */
  bindingForProvenKey(keyBlob: Uint8Array): Promise<KeyBinding | undefined>;
  /** Bind a key whose signature was verified in this connection to the identity that just signed in. */
  bindProvenKey(keyBlob: Uint8Array, identity: OidcIdentity): Promise<KeyBinding>;
  /** The admin listener's /login routes, signing with the gateway user CA. */
  /** `publicBaseUrl` defaults to oidc.webLoginBaseUrl. Throws OidcConfigError when neither is set. */
  webLogin(opts: { issueCertificate: UserCertificateIssuer; publicBaseUrl?: URL } & Partial<Pick<WebLoginOptions, 'onIssued' | 'onFailed'>>): WebLogin;
}

export interface CreateOidcSignInOptions {
  /** The `oidc:` section (src/config.ts shape or this module's own names). */
  readonly oidc: unknown;
  readonly stateDir: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly onDeviceLoginSettled?: DeviceLoginServiceOptions['onSettled'];
}

/** Parse the config, read the secret, discover the provider. Rejects with OidcConfigError or OidcLoginError. */
export async function createOidcSignIn(opts: CreateOidcSignInOptions): Promise<OidcSignIn> {
  const config = parseOidcConfig(opts.oidc);
  const clientSecret: Secret | undefined = loadClientSecret(config.clientSecretSource, opts.env ?? process.env);
  const client = await OidcClient.discover({ config, clientSecret });
  const deviceLogins = new DeviceLoginService(client, {
    loginTimeoutSeconds: config.loginTimeoutSeconds,
    ...(opts.onDeviceLoginSettled === undefined ? {} : { onSettled: opts.onDeviceLoginSettled }),
  });
  const keyBindings = new KeyBindingStore({ stateDir: opts.stateDir, ttlSeconds: config.keyBindingTtlSeconds });
  return {
    config,
    client,
    deviceLogins,
    keyBindings,
    bindingForProvenKey: (blob) => keyBindings.lookup(sha256Fingerprint(blob)),
    bindProvenKey: (blob, identity) => keyBindings.bind(sha256Fingerprint(blob), identity),
    webLogin: (w) => {
      const publicBaseUrl = w.publicBaseUrl ?? config.webLoginBaseUrl;
      if (publicBaseUrl === undefined) throw new OidcConfigError('oidc.webLoginBaseUrl: needed for the web sign-in (/login)');
      return new WebLogin({
        client,
        issueCertificate: w.issueCertificate,
        publicBaseUrl,
        certificateTtlSeconds: config.certificateTtlSeconds,
        ...(w.onIssued === undefined ? {} : { onIssued: w.onIssued }),
        ...(w.onFailed === undefined ? {} : { onFailed: w.onFailed }),
      });
    },
  };
}
