/**
 * How the client decides whether to trust the server's host key: pinned keys, a known_hosts
 * file (src/keys known-hosts.ts: hashed names, [host]:port, @cert-authority, @revoked), or a
 * host CA. The key is never trusted blindly: every verifier names what it trusts.
 */
import { verifyCertificate } from '../keys/certificate.js';
import { type KnownHosts, parseKnownHosts } from '../keys/known-hosts.js';
import { encodePublicKeyBlob, fingerprintSha256, parsePublicKeyBlob, parsePublicKeyLine } from '../keys/public-key.js';
import { isCertificateKey } from '../keys/key-types.js';
import { bytesEqual } from '../wire/index.js';

export type HostKeyTrust =
  /** Trust exactly these keys: public key lines, blobs, or "SHA256:..." fingerprints. A certificate matches by its certified key. */
  | { readonly type: 'pinned'; readonly keys: readonly (string | Uint8Array)[] }
  /** A known_hosts file's text or a parsed KnownHosts; the host is looked up as `host` (or `[host]:port`). */
  | { readonly type: 'known-hosts'; readonly knownHosts: string | KnownHosts }
  /** Trust host certificates signed by one of these CA keys (lines or blobs) naming `principal` (default: the host). */
  | { readonly type: 'host-ca'; readonly caKeys: readonly (string | Uint8Array)[]; readonly principal?: string }
  /** Any other rule; resolves true to trust. */
  | {
      readonly type: 'custom';
      verify(host: string, port: number, algorithm: string, publicKey: Uint8Array): boolean | Promise<boolean>;
    };

export interface HostKeyVerdict {
  readonly ok: boolean;
  readonly reason: string;
}

function toBlob(k: string | Uint8Array): Uint8Array {
  return typeof k === 'string' ? parsePublicKeyLine(k).blob : k;
}

/** Decides on the host key the server proved it holds. Never throws: problems are a refusal with a reason. */
export async function verifyHostKey(
  verifier: HostKeyTrust,
  host: string,
  port: number,
  algorithm: string,
  publicKey: Uint8Array,
): Promise<HostKeyVerdict> {
  try {
    switch (verifier.type) {
      case 'pinned': {
        const offered = parsePublicKeyBlob(publicKey);
        const plainBlob = isCertificateKey(offered) ? encodePublicKeyBlob(offered.certificate.key) : publicKey;
        const fp = fingerprintSha256(plainBlob);
        const hit = verifier.keys.some((k) =>
          typeof k === 'string' && k.startsWith('SHA256:') ? k === fp : bytesEqual(toBlob(k), plainBlob),
        );
        return hit ? { ok: true, reason: `pinned key ${fp}` } : { ok: false, reason: `host key ${fp} is not pinned` };
      }
      case 'known-hosts': {
        const kh = typeof verifier.knownHosts === 'string' ? parseKnownHosts(verifier.knownHosts) : verifier.knownHosts;
        const r = kh.check(host, port, publicKey);
        return { ok: r.status === 'match', reason: r.reason };
      }
      case 'host-ca': {
        const v = verifyCertificate(publicKey, {
          type: 'host',
          caKeys: verifier.caKeys.map(toBlob),
          principal: verifier.principal ?? host,
        });
        return v.ok ? { ok: true, reason: 'host certificate signed by a trusted CA' } : { ok: false, reason: v.message };
      }
      case 'custom': {
        const ok = await verifier.verify(host, port, algorithm, publicKey);
        return { ok, reason: ok ? 'accepted by custom verifier' : 'refused by custom verifier' };
      }
      default: {
        const never: never = verifier;
        return { ok: false, reason: `unknown verifier ${String(never)}` };
      }
    }
  } catch (e) {
    return { ok: false, reason: `host key check failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * The ClientConnection `verifyHostKey` callback for a trust rule and the host:port dialled
 * (the name known_hosts and host certificates are checked against).
 */
export function hostKeyVerifier(
  trust: HostKeyTrust,
  host: string,
  port: number,
): (algorithm: string, publicKey: Uint8Array) => Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }> {
  return async (algorithm, publicKey) => {
    const v = await verifyHostKey(trust, host, port, algorithm, publicKey);
    return v.ok ? { ok: true } : { ok: false, reason: v.reason };
  };
}
