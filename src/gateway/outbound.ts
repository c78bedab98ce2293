/**
 * The gateway's own SSH connection to a target. The target's host key is verified against the
 * policy (pinned hostKeys, a known_hosts file, or a host CA) and bound to that target's address
 * and port — never trusted on first use. The default credential is a per-session OpenSSH user
 * certificate from the gateway user CA: valid a few minutes, principal = the login, key id
 * naming the gateway user and the session.
 */
import { readFile } from 'node:fs/promises';
import type { CertificateAuthority } from '../ca/index.js';
import {
  fingerprintSha256,
  generatePrivateKey,
  isCertificateKey,
  parseKnownHosts,
  parsePrivateKey,
  parsePublicKeyBlob,
  verifyCertificate,
} from '../keys/index.js';
import { SshClient, signerFromPrivateKey } from '../net/client.js';
import type { ClientConnection, ClientSigner } from '../net/client-connection.js';
import type { Action, PolicyTarget } from '../policy/index.js';

export class TargetDialError extends Error {
  override readonly name = 'TargetDialError';
  constructor(
    message: string,
    readonly kind: 'host-key' | 'auth' | 'connect' | 'credential',
  ) {
    super(message);
  }
}

export interface DialRequest {
  readonly target: PolicyTarget;
  readonly login: string;
  readonly gatewayUser: string;
  readonly sessionId: string;
  /** Actions the policy allows this identity on this target and login (certificate extensions follow them). */
  readonly allowed: readonly Action[];
  readonly userCa: CertificateAuthority;
  readonly timeoutMs?: number;
}

/** Lifetime of the per-session certificate: long enough to log in, short enough to be useless if stolen. */
export const SESSION_CERT_SECONDS = 5 * 60;

export type HostKeyDecision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks the key a target proved against what the policy says about that target. */
export async function checkTargetHostKey(target: PolicyTarget, blob: Uint8Array): Promise<HostKeyDecision> {
  const v = target.hostVerification;
  const fp = safeFingerprint(blob);
  switch (v.kind) {
    case 'host-keys': {
      const plain = plainBlobOf(blob);
      if (plain && v.keys.some((k) => sameBytes(k.blob, plain))) return { ok: true };
      return { ok: false, reason: `host key ${fp} of ${target.name} is not one of its pinned hostKeys (it may have changed)` };
    }
    case 'known-hosts': {
      let text: string;
      try {
        text = await readFile(v.file, 'utf8');
      } catch (e) {
        return { ok: false, reason: `cannot read known_hosts ${v.file}: ${e instanceof Error ? e.message : String(e)}` };
      }
      const result = parseKnownHosts(text).check(target.address, target.port, blob);
      if (result.status === 'match') return { ok: true };
      return { ok: false, reason: `host key ${fp} of ${target.name} (${target.address}:${target.port}): ${result.status}, ${result.reason}` };
    }
    case 'host-ca': {
      const verdict = verifyCertificate(blob, { type: 'host', caKeys: [v.key.blob], principal: target.address });
      if (verdict.ok) return { ok: true };
      const byName = verifyCertificate(blob, { type: 'host', caKeys: [v.key.blob], principal: target.name });
      if (byName.ok) return { ok: true };
      return { ok: false, reason: `host certificate of ${target.name} refused: ${verdict.message}` };
    }
    default: {
      const never: never = v;
      throw new Error(`unhandled host verification ${String(never)}`);
    }
  }
}

/** Certificate extensions granted to the session key, following what the policy allows. */
export function extensionsFor(allowed: readonly Action[]): string[] {
  const ext = ['permit-pty'];
  if (allowed.includes('port-forward') || allowed.includes('remote-forward')) ext.push('permit-port-forwarding');
  if (allowed.includes('agent-forward')) ext.push('permit-agent-forwarding');
  return ext;
}

export async function dialTarget(req: DialRequest): Promise<ClientConnection> {
  const { target } = req;
  let auth: ClientSigner;
  try {
    auth = await credentialFor(req);
  } catch (e) {
    throw new TargetDialError(`no credential for ${target.name}: ${e instanceof Error ? e.message : String(e)}`, 'credential');
  }
  try {
    return await SshClient.connect({
      host: target.address,
      port: target.port,
      username: req.login,
      readyTimeoutMs: req.timeoutMs ?? 15_000,
      verifyHostKey: (_alg, blob) => checkTargetHostKey(target, blob),
      // The gateway holds exactly one credential for the target and the policy says the target
      // takes it: a signed request straight after SERVICE_ACCEPT, without OpenSSH's "none" probe
      // and key query first, saves two round trips per session (issue 7, session setup).
      auth: [{ type: 'signer', signer: auth, query: false }],
      authNoneFirst: false,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const kind = e instanceof Error && e.name === 'HostKeyRejectedError' ? 'host-key' : e instanceof Error && e.name === 'SshAuthenticationError' ? 'auth' : 'connect';
    throw new TargetDialError(`${target.name}: ${msg}`, kind);
  }
}

async function credentialFor(req: DialRequest): Promise<ClientSigner> {
  const auth = req.target.auth;
  switch (auth.kind) {
    case 'certificate': {
      const key = generatePrivateKey('ssh-ed25519', undefined, `gatehouse-session-${req.sessionId}`);
      const cert = req.userCa.issueUserCertificate({
        publicKey: key.publicKeyBlob,
        principals: [req.login],
        keyId: `gatehouse:${req.gatewayUser}:${req.sessionId}`,
        validitySeconds: SESSION_CERT_SECONDS,
        extensions: extensionsFor(req.allowed),
      });
      return signerFromPrivateKey(key, cert.blob);
    }
    case 'key':
      return signerFromPrivateKey(parsePrivateKey(await readFile(auth.file, 'utf8')));
    case 'agent':
      throw new Error('agent credentials are not supported for outbound connections yet');
    default: {
      const never: never = auth;
      throw new Error(`unhandled target auth ${String(never)}`);
    }
  }
}

function plainBlobOf(blob: Uint8Array): Uint8Array | undefined {
  try {
    const k = parsePublicKeyBlob(blob);
    return isCertificateKey(k) ? undefined : blob;
  } catch {
    return undefined;
  }
}

function safeFingerprint(blob: Uint8Array): string {
  try {
    return fingerprintSha256(blob);
  } catch {
    return '(malformed key)';
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
