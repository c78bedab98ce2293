/**
 * Who is connecting: the SshServer authenticate hook of the gateway. Identity derives only from
 * a credential — a key whose signature verified (policy users, OIDC key bindings), a
 * certificate from a trusted user CA, or an OIDC sign-in over keyboard-interactive — never from
 * the user name, which only says where to go (routing-name.ts).
 */
import type { AuthAnswer, AuthCheck } from '../auth/index.js';
import type { ProvenKey } from '../auth/public-key-proof.js';
import { fingerprintSha256, isCertificateKey, parsePublicKeyBlob, verifyCertificate } from '../keys/index.js';
import type { EventSink } from '../obs/events.js';
import {
  type DeviceLogin,
  failureRound,
  groupsFromWebLoginKeyId,
  type KeyboardInteractiveRound,
  type OidcFailureKind,
  OidcLoginError,
  type OidcSignIn,
  newSessionTag,
  policyIdentityFromDeviceLogin,
  policyIdentityFromKeyBinding,
  WEB_LOGIN_KEY_ID_PREFIX,
} from '../oidc/index.js';
import { type Identity, type Policy, trustedUserCa, userForKey } from '../policy/index.js';
import { type RoutingName, RoutingNameError, parseRoutingName } from './routing-name.js';

/** What the gateway knows about one inbound connection while it authenticates. */
export interface InboundContext {
  readonly connectionId: string;
  routing: RoutingName | undefined;
  rawUser: string;
  identity: Identity | undefined;
  /** Certificate restrictions that follow the identity (force-command, permit-* extensions). */
  certificate: { readonly forceCommand: string | null; readonly extensions: readonly string[] } | undefined;
  /** The blob of a key proven in this connection that has no owner yet (for OIDC key binding). */
  provenUnboundKey: Uint8Array | undefined;
  deviceLogin: DeviceLogin | undefined;
  /** Device sign-ins started on this connection (at most MAX_DEVICE_LOGINS_PER_CONNECTION). */
  deviceLoginAttempts: number;
  /** Set (to why) once this connection gets no further device sign-in. */
  deviceLoginClosed: string | undefined;
  /** A failure round went out: the next answers get this refusal (logged when the failure happened). */
  pendingRefusal: string | undefined;
  /** The tag shown to the user for the current device sign-in, for the operator's log. */
  sessionTag: string | undefined;
  /** Aborted when the connection closes: cancels the device sign-in, its timers and provider requests. */
  connectionClosed: AbortController | undefined;
}

/**
 * Device codes one connection may ask for. Each holds a code at the provider and a poll loop
 * here; OpenSSH retries keyboard-interactive up to NumberOfPasswordPrompts (3) times.
 */
export const MAX_DEVICE_LOGINS_PER_CONNECTION = 3;
/** sshd's LoginGraceTime default, which the gateway keeps without OIDC. */
const DEFAULT_LOGIN_GRACE_MS = 120_000;

/**
 * The server's login grace time: with OIDC, long enough for one device sign-in to run to its own
 * timeout (oidc.timeouts.login, default 10 min), so the user gets its message rather than a
 * connection cut at sshd's usual 2 minutes in the middle of signing in.
 */
export function loginGrace(oidc: { readonly config: { readonly loginTimeoutSeconds: number } } | undefined): { loginGraceMs?: number } {
  if (oidc === undefined) return {};
  return { loginGraceMs: Math.max(DEFAULT_LOGIN_GRACE_MS, (oidc.config.loginTimeoutSeconds + 30) * 1000) };
}

/** Failures that a new code may cure; the others (declined, bad token, misconfiguration) end sign-in on the connection. */
const RETRYABLE_FAILURES: ReadonlySet<OidcFailureKind> = new Set<OidcFailureKind>(['expired', 'unreachable']);

export interface InboundAuthDeps {
  policy(): Policy;
  /** The gateway's own user CA public key: certificates from `gatehouse login` are trusted. */
  readonly gatewayUserCaBlob: Uint8Array;
  readonly oidc: Pick<OidcSignIn, 'deviceLogins' | 'bindingForProvenKey' | 'bindProvenKey'> | undefined;
  readonly events: EventSink;
}

/** What authentication needs of the connection (a ServerConnection; tests pass a stand-in). */
export interface InboundConnection {
  readonly remoteAddress: string;
  readonly isClosed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

const reject = (reason: string): AuthAnswer => ({ type: 'reject', reason });

export function newInboundContext(connectionId: string): InboundContext {
  return {
    connectionId,
    routing: undefined,
    rawUser: '',
    identity: undefined,
    certificate: undefined,
    provenUnboundKey: undefined,
    deviceLogin: undefined,
    deviceLoginAttempts: 0,
    deviceLoginClosed: undefined,
    pendingRefusal: undefined,
    sessionTag: undefined,
    connectionClosed: undefined,
  };
}

/** Decides one userauth step for the gateway. */
export async function authenticateInbound(
  deps: InboundAuthDeps,
  ctx: InboundContext,
  conn: InboundConnection,
  user: string,
  check: AuthCheck,
): Promise<AuthAnswer> {
  if (ctx.rawUser !== user) {
    // Parse exactly once per distinct name; OpenSSH may change it between attempts.
    ctx.rawUser = user;
    ctx.identity = undefined;
    try {
      ctx.routing = parseRoutingName(user);
    } catch (e) {
      ctx.routing = undefined;
      const reason = e instanceof RoutingNameError ? e.message : 'invalid user name';
      result(deps, ctx, user, check.kind, 'failure', reason);
      return reject(reason);
    }
  }
  const routing = ctx.routing;
  if (routing === undefined) return reject('invalid user name');
  if (check.kind === 'keyboard-interactive' || check.kind === 'keyboard-interactive-answers') {
    // Logs its own attempts and results: they carry the session tag, and a failure is logged
    // when it happens, not when the user acknowledges the failure round.
    return keyboardInteractive(deps, ctx, conn, routing, check);
  }
  const method = methodOf(check);
  deps.events({ type: 'auth.attempt', connectionId: ctx.connectionId, user, method, ...fingerprintOf(check) });
  const answer = await decide(deps, ctx, conn, routing, check);
  if (answer.type === 'accept' && check.kind !== 'publickey-query') result(deps, ctx, user, method, 'success', `identity ${ctx.identity?.user ?? '?'}`);
  else if (answer.type === 'reject') result(deps, ctx, user, method, 'failure', answer.reason);
  else if (answer.type === 'partial') result(deps, ctx, user, method, 'partial', 'more factors required');
  return answer;
}

async function decide(deps: InboundAuthDeps, ctx: InboundContext, conn: InboundConnection, routing: RoutingName, check: AuthCheck): Promise<AuthAnswer> {
  const policy = deps.policy();
  switch (check.kind) {
    case 'none':
      return reject('authentication required');
    case 'password':
      return reject('password authentication is not offered');
    case 'publickey-query': {
      const key = check.key;
      if (key.isCertificate) {
        const cert = safeCertificate(key.blob);
        if (cert && isTrustedCa(deps, policy, cert.signatureKeyBlob)) return { type: 'accept' };
        return reject('certificate from an untrusted CA');
      }
      if (userForKey(policy, key.blob)) return { type: 'accept' };
      if (deps.oidc && (await deps.oidc.bindingForProvenKey(key.blob))) return { type: 'accept' };
      // Unknown key: answer PK_OK anyway when SSO is available, so the client proves it and the
      // key can be bound to the identity that signs in next (src/oidc/index.ts, step 3).
      if (deps.oidc) return { type: 'accept' };
      return reject('unknown key');
    }
    case 'publickey':
      return provenKey(deps, ctx, conn, routing, policy, check.key);
    case 'keyboard-interactive':
    case 'keyboard-interactive-answers':
      throw new Error('keyboard-interactive is decided by keyboardInteractive()');
    default: {
      const never: never = check;
      throw new Error(`unhandled auth check ${String(never)}`);
    }
  }
}

type KeyboardInteractiveCheck = Extract<AuthCheck, { kind: 'keyboard-interactive' | 'keyboard-interactive-answers' }>;

const prompt = (round: KeyboardInteractiveRound): AuthAnswer => ({ type: 'prompt', name: round.name, instruction: round.instruction, prompts: round.prompts });

/**
 * OIDC device flow over keyboard-interactive (RFC 4256, RFC 8628): one round shows where to sign
 * in, the answer waits for the result. A failure gets one more round whose prompt says why (a
 * USERAUTH_FAILURE carries no text), then the refusal. Bounded per connection; cancelled, with
 * its provider requests, when the connection closes.
 */
async function keyboardInteractive(deps: InboundAuthDeps, ctx: InboundContext, conn: InboundConnection, routing: RoutingName, check: KeyboardInteractiveCheck): Promise<AuthAnswer> {
  const log = (outcome: 'success' | 'failure', reason: string) =>
    deps.events({
      type: 'auth.result',
      connectionId: ctx.connectionId,
      user: ctx.rawUser,
      method: 'keyboard-interactive',
      result: outcome,
      reason,
      ...(ctx.sessionTag === undefined ? {} : { sessionTag: ctx.sessionTag }),
    });
  const refuse = (reason: string): AuthAnswer => {
    log('failure', reason);
    return reject(reason);
  };
  /** Log the failure now, show it to the user in one more round, refuse on the answer. */
  const failed = (error: OidcLoginError, retryable = RETRYABLE_FAILURES.has(error.kind)): AuthAnswer => {
    const retry = retryable && ctx.deviceLoginAttempts < MAX_DEVICE_LOGINS_PER_CONNECTION && !conn.isClosed;
    if (!retry) ctx.deviceLoginClosed ??= `the last sign-in failed (${error.kind})`;
    log('failure', `device sign-in failed (${error.kind}): ${error.detail}`);
    if (conn.isClosed) return reject(error.userMessage);
    ctx.pendingRefusal = error.userMessage;
    return prompt(failureRound(error, { retry }));
  };

  const oidc = deps.oidc;
  if (check.kind === 'keyboard-interactive') {
    // A new request abandons any exchange in progress (RFC 4256 §3.4).
    ctx.deviceLogin?.cancel('the client started a new keyboard-interactive request');
    ctx.deviceLogin = undefined;
    ctx.pendingRefusal = undefined;
    if (!oidc) return refuse('keyboard-interactive sign-in is not configured');
    if (ctx.deviceLoginClosed !== undefined) return refuse(`no further sign-in on this connection: ${ctx.deviceLoginClosed}`);
    if (ctx.deviceLoginAttempts >= MAX_DEVICE_LOGINS_PER_CONNECTION) {
      ctx.deviceLoginClosed = `${MAX_DEVICE_LOGINS_PER_CONNECTION} sign-ins already started`;
      return refuse(`no further sign-in on this connection: ${ctx.deviceLoginClosed}`);
    }
    if (conn.isClosed) return reject('connection closed');
    const signal = closedSignal(ctx, conn);
    ctx.deviceLoginAttempts += 1;
    ctx.sessionTag = newSessionTag();
    deps.events({ type: 'auth.attempt', connectionId: ctx.connectionId, user: ctx.rawUser, method: 'keyboard-interactive', sessionTag: ctx.sessionTag });
    let login: DeviceLogin;
    try {
      login = await oidc.deviceLogins.begin(conn.remoteAddress, ctx.sessionTag, { signal });
    } catch (e) {
      return failed(e instanceof OidcLoginError ? e : new OidcLoginError('provider-error', 'Sign-in failed: unexpected error at the gateway.', `device authorization: ${String(e)}`));
    }
    ctx.deviceLogin = login;
    return prompt(login.round);
  }

  const refusal = ctx.pendingRefusal;
  if (refusal !== undefined) {
    // The failure round was answered; the failure itself was logged when it happened.
    ctx.pendingRefusal = undefined;
    return reject(refusal);
  }
  const login = ctx.deviceLogin;
  if (!login || !oidc) return refuse('no sign-in in progress');
  const r = await login.result;
  if (ctx.deviceLogin === login) ctx.deviceLogin = undefined;
  if (!r.ok) return failed(r.error);
  const identity = policyIdentityFromDeviceLogin(r.identity);
  const mismatch = nameMismatch(routing, identity.user);
  if (mismatch) {
    const who = routing.kind === 'gateway-user' ? routing.user : '?';
    return failed(new OidcLoginError('access-denied', `You signed in as ${identity.user}, but connected as ${who}. Connect as ${identity.user} instead.`, mismatch), false);
  }
  ctx.identity = identity;
  let bound = '';
  if (ctx.provenUnboundKey) {
    const fingerprint = fingerprintSha256(ctx.provenUnboundKey);
    try {
      await oidc.bindProvenKey(ctx.provenUnboundKey, r.identity);
      bound = `; key ${fingerprint} bound`;
    } catch (e) {
      // The sign-in stands; only the browserless next time is lost.
      bound = `; binding key ${fingerprint} failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  log('success', `identity ${identity.user} (OIDC groups: ${identity.groups.join(', ') || 'none'})${bound}`);
  return { type: 'accept' };
}

/** One signal per connection, aborted when it closes (registered once, whatever the attempts). */
function closedSignal(ctx: InboundContext, conn: InboundConnection): AbortSignal {
  if (ctx.connectionClosed === undefined) {
    const controller = new AbortController();
    ctx.connectionClosed = controller;
    conn.once('close', () => controller.abort());
  }
  return ctx.connectionClosed.signal;
}

async function provenKey(
  deps: InboundAuthDeps,
  ctx: InboundContext,
  conn: InboundConnection,
  routing: RoutingName,
  policy: Policy,
  key: ProvenKey,
): Promise<AuthAnswer> {
  const fingerprint = fingerprintSha256(key.blob);
  if (key.isCertificate) {
    const parsed = safeCertificate(key.blob);
    if (!parsed) return reject('malformed certificate');
    const caKeys = [deps.gatewayUserCaBlob, ...policy.userCAs.map((k) => k.blob)];
    const principal = routing.kind === 'gateway-user' ? routing.user : singlePrincipal(parsed.principals);
    if (principal === undefined) return reject('the certificate names several principals: connect as <principal>@gateway');
    const verdict = verifyCertificate(key.blob, { type: 'user', caKeys, principal, sourceAddress: conn.remoteAddress });
    if (!verdict.ok) return reject(`certificate refused: ${verdict.message}`);
    const fromWebLogin = sameBytes(verdict.caKeyBlob, deps.gatewayUserCaBlob) && verdict.certificate.keyId.startsWith(WEB_LOGIN_KEY_ID_PREFIX);
    // A `gatehouse login` certificate stands for the OIDC sign-in it was issued after, with the
    // groups it carries (signed in its key id), like a key binding does.
    ctx.identity = fromWebLogin
      ? { user: principal, groups: groupsFromWebLoginKeyId(verdict.certificate.keyId), authMethod: 'publickey', keyFingerprint: fingerprint, source: 'oidc', sso: true }
      : { user: principal, groups: [], authMethod: 'publickey', keyFingerprint: fingerprint, source: 'certificate' };
    ctx.certificate = { forceCommand: verdict.forceCommand, extensions: verdict.extensions };
    return { type: 'accept' };
  }
  const owner = userForKey(policy, key.blob);
  if (owner) {
    const mismatch = nameMismatch(routing, owner.name);
    if (mismatch) return reject(mismatch);
    ctx.identity = { user: owner.name, groups: [], authMethod: 'publickey', keyFingerprint: fingerprint, source: 'key' };
    return { type: 'accept' };
  }
  if (deps.oidc) {
    const binding = await deps.oidc.bindingForProvenKey(key.blob);
    if (binding) {
      const identity = policyIdentityFromKeyBinding(binding);
      const mismatch = nameMismatch(routing, identity.user);
      if (mismatch) return reject(mismatch);
      ctx.identity = identity;
      return { type: 'accept' };
    }
    // Proven but unknown: remember it for the binding after an SSO sign-in, and refuse this
    // attempt so that the client goes on with its other credentials. Not partial success: OpenSSH
    // then forgets which keys it tried (pubkey_reset) and would never reach the certificate from
    // `gatehouse login`, which it offers after the plain key of the same file.
    ctx.provenUnboundKey = key.blob;
    return reject('key not bound to a sign-in yet: sign in with SSO (keyboard-interactive) or use a certificate');
  }
  return reject('key not known to the policy');
}

/** The gateway-user name form must name the identity the credential proved. */
function nameMismatch(routing: RoutingName, user: string): string | undefined {
  if (routing.kind === 'gateway-user' && routing.user !== user) return `the credential belongs to ${user}, not ${routing.user}`;
  return undefined;
}

function singlePrincipal(principals: readonly string[]): string | undefined {
  return principals.length === 1 ? principals[0] : undefined;
}

function isTrustedCa(deps: InboundAuthDeps, policy: Policy, caBlob: Uint8Array): boolean {
  return sameBytes(caBlob, deps.gatewayUserCaBlob) || trustedUserCa(policy, caBlob) !== undefined;
}

function safeCertificate(blob: Uint8Array) {
  try {
    const k = parsePublicKeyBlob(blob);
    return isCertificateKey(k) ? k.certificate : undefined;
  } catch {
    return undefined;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function methodOf(check: AuthCheck): string {
  switch (check.kind) {
    case 'publickey':
    case 'publickey-query':
      return 'publickey';
    case 'keyboard-interactive':
    case 'keyboard-interactive-answers':
      return 'keyboard-interactive';
    default:
      return check.kind;
  }
}

function fingerprintOf(check: AuthCheck): { keyFingerprint?: string } {
  if (check.kind === 'publickey' || check.kind === 'publickey-query') {
    try {
      return { keyFingerprint: fingerprintSha256(check.key.blob) };
    } catch {
      return {};
    }
  }
  return {};
}

function result(deps: InboundAuthDeps, ctx: InboundContext, user: string, method: string, outcome: 'success' | 'failure' | 'partial', reason: string): void {
  deps.events({ type: 'auth.result', connectionId: ctx.connectionId, user, method, result: outcome, reason });
}
