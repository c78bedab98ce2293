/**
 * The cryptography a hop cannot avoid per GiB relayed, at OpenSSL's own speed measured in the
 * same run: a floor under the hop CPU figures the throughput sections print, so a reader sees
 * how much of a hop's CPU is the work itself and how much is the rest (socket I/O, copies,
 * the runtime).
 *
 * What each hop does to every relayed byte:
 * - the OpenSSH jump host (`openssh -J`): one pass of the session cipher, on the connection to
 *   the client; the inner connection runs end to end and the jump host only forwards it.
 * - Gatehouse routing by user name (`login@target`): one pass on the client's connection and one
 *   on its own connection to the target, which uses the gateway's own first choice of cipher.
 * - Gatehouse `ssh -J`: two passes on the client's side (the outer connection and the inner one
 *   it terminates to record it) and one towards the target.
 * - A recorded download also hashes every byte of the output with SHA-256 (the `b` events'
 *   sidecar references, src/recording/FORMAT.md); the upload is the session's input, which the
 *   benchmark's policy does not record.
 */
import type { PathName } from './paths.js';

/** Passes over every relayed byte that a hop makes, by primitive. */
export interface HopWork {
  /** Passes of the client's session cipher. */
  readonly clientCipher: number;
  /** Passes of the cipher of the hop's own connection to the target. */
  readonly targetCipher: number;
  /** SHA-256 passes over the recorded bytes. */
  readonly sha256: number;
}

/** What `path` costs its hop per byte moved in `direction`; null for the direct path, which has no hop. */
export function hopWork(path: PathName, direction: 'upload' | 'download'): HopWork | null {
  const recorded = direction === 'download' ? 1 : 0;
  switch (path) {
    case 'openssh -J':
      return { clientCipher: 1, targetCipher: 0, sha256: 0 };
    case 'gatehouse login@target':
      return { clientCipher: 1, targetCipher: 1, sha256: recorded };
    case 'gatehouse -J':
      return { clientCipher: 2, targetCipher: 1, sha256: recorded };
    case 'direct':
      return null;
    default: {
      const never: never = path;
      throw new Error(String(never));
    }
  }
}

/** OpenSSL's rates in MB/s (10^6 bytes per second) for the primitives of one row; null where it was not measured. */
export interface PrimitiveRates {
  readonly clientCipher: number | null;
  readonly targetCipher: number | null;
  readonly sha256: number | null;
}

const MB_PER_GIB = 1073.741824;

/** CPU seconds per GiB that `work` takes at `rates`; null when a rate it needs is missing or not positive. */
export function floorSecondsPerGiB(work: HopWork, rates: PrimitiveRates): number | null {
  let seconds = 0;
  for (const k of ['clientCipher', 'targetCipher', 'sha256'] as const) {
    const passes = work[k];
    if (passes === 0) continue;
    const rate = rates[k];
    if (rate === null || !(rate > 0) || !Number.isFinite(rate)) return null;
    seconds += (passes * MB_PER_GIB) / rate;
  }
  return seconds;
}

/** The `openssl speed -evp` cipher behind an SSH cipher name; undefined for one it has no AEAD for. */
export function opensslCipherOf(sshCipher: string): string | undefined {
  switch (sshCipher) {
    case 'aes128-gcm@openssh.com':
      return 'aes-128-gcm';
    case 'aes256-gcm@openssh.com':
      return 'aes-256-gcm';
    case 'chacha20-poly1305@openssh.com':
      return 'chacha20-poly1305';
    default:
      return undefined;
  }
}
