/**
 * Who is connecting: the SshServer authenticate hook of the gateway. Identity derives only from
 * a credential — a key whose signature verified (policy users, OIDC key bindings), a
 * certificate from a trusted user CA, or an OIDC sign-in over keyboard-interactive — never from
 * the user name, which only says where to go (routing-name.ts).
 */
import type { AuthAnswer, AuthCheck } from '../auth/index.js';
import type { ProvenKey } from '../auth/public-key-proof.js';
import { fingerprintSha256, isCertificateKey, parsePublicKeyBlob, verifyCertificate } from '../keys/index.js';
import type { ServerConnection } from '../net/server-connection.js';
import type { EventSink } from '../obs/events.js';
import { type OidcSignIn, newSessionTag, policyIdentityFromDeviceLogin, policyIdentityFromKeyBinding, WEB_LOGIN_KEY_ID_PREFIX } from '../oidc/index.js';
import type { DeviceLogin } from '../oidc/index.js';
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
}

export interface InboundAuthDeps {
  policy(): Policy;
  /** The gateway's own user CA public key: certificates from `gatehouse login` are trusted. */
  readonly gatewayUserCaBlob: Uint8Array;
  readonly oidc: OidcSignIn | undefined;
  readonly events: EventSink;
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
  };
}

/** Decides one userauth step for the gateway. */
export async function authenticateInbound(
  deps: InboundAuthDeps,
  ctx: InboundContext,
  conn: ServerConnection,
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
  const method = methodOf(check);
  if (check.kind !== 'keyboard-interactive-answers') {
    deps.events({ type: 'auth.attempt', connectionId: ctx.connectionId, user, method, ...fingerprintOf(check) });
  }
  const answer = await decide(deps, ctx, conn, routing, check);
  if (answer.type === 'accept' && check.kind !== 'publickey-query') result(deps, ctx, user, method, 'success', `identity ${ctx.identity?.user ?? '?'}`);
  else if (answer.type === 'reject') result(deps, ctx, user, method, 'failure', answer.reason);
  else if (answer.type === 'partial') result(deps, ctx, user, method, 'partial', 'more factors required');
  return answer;
}

async function decide(deps: InboundAuthDeps, ctx: InboundContext, conn: ServerConnection, routing: RoutingName, check: AuthCheck): Promise<AuthAnswer> {
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
    case 'keyboard-interactive': {
      if (!deps.oidc) return reject('keyboard-interactive sign-in is not configured');
      const login = await deps.oidc.deviceLogins.begin(conn.remoteAddress, newSessionTag());
      ctx.deviceLogin?.cancel('a new sign-in started');
      ctx.deviceLogin = login;
      conn.once('close', () => login.cancel('connection closed'));
      return { type: 'prompt', name: login.round.name, instruction: login.instruction, prompts: login.prompts };
    }
    case 'keyboard-interactive-answers': {
      const login = ctx.deviceLogin;
      if (!login || !deps.oidc) return reject('no sign-in in progress');
      const r = await login.result;
      ctx.deviceLogin = undefined;
      if (!r.ok) return reject(r.error.userMessage);
      const identity = policyIdentityFromDeviceLogin(r.identity);
      const mismatch = nameMismatch(routing, identity.user);
      if (mismatch) return reject(mismatch);
      ctx.identity = identity;
      if (ctx.provenUnboundKey) await deps.oidc.bindProvenKey(ctx.provenUnboundKey, r.identity);
      return { type: 'accept' };
    }
    default: {
      const never: never = check;
      throw new Error(`unhandled auth check ${String(never)}`);
    }
  }
}

async function provenKey(
  deps: InboundAuthDeps,
  ctx: InboundContext,
  conn: ServerConnection,
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
    ctx.identity = {
      user: principal,
      groups: [],
      authMethod: 'publickey',
      keyFingerprint: fingerprint,
      source: 'certificate',
      ...(fromWebLogin ? { sso: true } : {}),
    };
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
    // Proven but unknown: remember it and ask for the SSO sign-in (RFC 4252 §5.1 partial success).
    ctx.provenUnboundKey = key.blob;
    return { type: 'partial', methods: ['keyboard-interactive'] };
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
