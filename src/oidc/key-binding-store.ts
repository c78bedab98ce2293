// Key binding: after a device-flow sign-in, the public key the client also offered in that
// connection stands for the signed-in identity until the binding expires (default 8 h), so
// Ansible runs and scp loops need no browser. One JSON file in the state dir, mode 0600,
// replaced atomically (write a temporary file, fsync, rename), bounded in entries and bytes.
// Several processes change it (gateway workers, `gatehouse sessions revoke-key`): each
// read-modify-write holds `<file>.lock`, created exclusively, so no change is lost.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import type { OidcIdentity } from './claims.js';
import { KeyBindingStoreError } from './errors.js';

export interface KeyBinding {
  /** OpenSSH fingerprint, "SHA256:<base64 without padding>". */
  readonly fingerprint: string;
  readonly identity: OidcIdentity;
  readonly boundAtMs: number;
  readonly expiresAtMs: number;
}

export interface KeyBindingStoreOptions {
  /** The state directory; the file is `<stateDir>/oidc-key-bindings.json`. */
  readonly stateDir: string;
  readonly ttlSeconds: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

const FILE_NAME = 'oidc-key-bindings.json';
const FORMAT_VERSION = 1;
const DEFAULT_MAX_ENTRIES = 10_000;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** How long a change waits for another process's lock before giving up. */
const LOCK_WAIT_MS = 5_000;
/** A lock older than this was left by a process that died mid-change (a change takes ms). */
const LOCK_STALE_MS = 10_000;

export function isFingerprint(value: string): boolean {
  return FINGERPRINT.test(value);
}

function isStr(v: unknown, max = 1024): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function parseIdentity(v: unknown): OidcIdentity | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const groups = o['groups'];
  if (!isStr(o['user']) || !isStr(o['issuer']) || !isStr(o['subject']) || o['source'] !== 'oidc') return undefined;
  if (!Array.isArray(groups) || groups.length > 1000 || !groups.every((g) => isStr(g))) return undefined;
  return { user: o['user'], groups: groups as string[], source: 'oidc', issuer: o['issuer'], subject: o['subject'] };
}

/** Parse the store file (total: every input gives bindings or a KeyBindingStoreError). */
export function parseKeyBindingFile(text: string): KeyBinding[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyBindingStoreError('key binding file is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== FORMAT_VERSION) {
    throw new KeyBindingStoreError(`key binding file is not version ${FORMAT_VERSION}`);
  }
  const list = (doc as { bindings?: unknown }).bindings;
  if (!Array.isArray(list)) throw new KeyBindingStoreError('key binding file has no bindings array');
  const out: KeyBinding[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) throw new KeyBindingStoreError('key binding entry is not an object');
    const o = item as Record<string, unknown>;
    const identity = parseIdentity(o['identity']);
    const fp = o['fingerprint'];
    const boundAtMs = o['boundAtMs'];
    const expiresAtMs = o['expiresAtMs'];
    if (typeof fp !== 'string' || !isFingerprint(fp) || identity === undefined || !Number.isSafeInteger(boundAtMs) || !Number.isSafeInteger(expiresAtMs)) {
      throw new KeyBindingStoreError('key binding entry is malformed');
    }
    out.push({ fingerprint: fp, identity, boundAtMs: boundAtMs as number, expiresAtMs: expiresAtMs as number });
  }
  return out;
}

export function serializeKeyBindings(bindings: readonly KeyBinding[]): string {
  return `${JSON.stringify({ version: FORMAT_VERSION, bindings }, null, 1)}\n`;
}

export class KeyBindingStore {
  readonly #opts: KeyBindingStoreOptions;
  readonly #path: string;
  /** Serializes read-modify-write cycles within this process. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: KeyBindingStoreOptions) {
    this.#opts = opts;
    this.#path = join(opts.stateDir, FILE_NAME);
  }

  get path(): string {
    return this.#path;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  /** Bind `fingerprint` to `identity` for the TTL (replacing an older binding of that key). */
  bind(fingerprint: string, identity: OidcIdentity): Promise<KeyBinding> {
    if (!isFingerprint(fingerprint)) return Promise.reject(new KeyBindingStoreError(`not an OpenSSH SHA256 fingerprint: ${fingerprint.slice(0, 80)}`));
    return this.#mutate((list, now) => {
      const binding: KeyBinding = { fingerprint, identity, boundAtMs: now, expiresAtMs: now + this.#opts.ttlSeconds * 1000 };
      const rest = list.filter((b) => b.fingerprint !== fingerprint);
      rest.push(binding);
      const max = this.#opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
      // Over the bound, the bindings closest to expiry go first.
      if (rest.length > max) rest.sort((a, b) => b.expiresAtMs - a.expiresAtMs).splice(max);
      return { list: rest, value: binding };
    });
  }

  /** The live binding for this key, if any. Reads the file, so revocations by the CLI take effect at once. */
  async lookup(fingerprint: string): Promise<KeyBinding | undefined> {
    if (!isFingerprint(fingerprint)) return undefined;
    const now = this.#now();
    const list = await this.#read();
    return list.find((b) => b.fingerprint === fingerprint && b.expiresAtMs > now);
  }

  /** Remove the binding of one key; true when there was one. */
  revokeKey(fingerprint: string): Promise<boolean> {
    return this.#mutate((list) => {
      const rest = list.filter((b) => b.fingerprint !== fingerprint);
      return { list: rest, value: rest.length !== list.length };
    });
  }

  /** Remove every binding of a user (policy removed them); returns how many. */
  revokeUser(user: string): Promise<number> {
    return this.#mutate((list) => {
      const rest = list.filter((b) => b.identity.user !== user);
      return { list: rest, value: list.length - rest.length };
    });
  }

  /**
   * Remove every binding whose identity `shouldRevoke` says no longer belongs (the gateway calls
   * this after a policy reload); returns how many.
   */
  revokeWhere(shouldRevoke: (identity: OidcIdentity) => boolean): Promise<number> {
    return this.#mutate((list) => {
      const rest = list.filter((b) => !shouldRevoke(b.identity));
      return { list: rest, value: list.length - rest.length };
    });
  }

  /** Live bindings, soonest expiry first. */
  async list(): Promise<KeyBinding[]> {
    const now = this.#now();
    return (await this.#read()).filter((b) => b.expiresAtMs > now).sort((a, b) => a.expiresAtMs - b.expiresAtMs);
  }

  async #read(): Promise<KeyBinding[]> {
    let text: string;
    try {
      const st = await stat(this.#path);
      if (st.size > MAX_FILE_BYTES) throw new KeyBindingStoreError(`${this.#path} is larger than ${MAX_FILE_BYTES} bytes`);
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      if (err instanceof KeyBindingStoreError) throw err;
      throw new KeyBindingStoreError(`cannot read ${this.#path}: ${(err as Error).message}`);
    }
    return parseKeyBindingFile(text);
  }

  #mutate<T>(change: (list: KeyBinding[], now: number) => { list: KeyBinding[]; value: T }): Promise<T> {
    const run = async () => {
      const release = await this.#lock();
      try {
        const now = this.#now();
        const live = (await this.#read()).filter((b) => b.expiresAtMs > now);
        const { list, value } = change(live, now);
        await this.#write(list);
        return value;
      } finally {
        await release();
      }
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Takes the cross-process lock (see the file comment); resolves to its release. */
  async #lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.#path}.lock`;
    await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
      try {
        const fh = await open(lockPath, 'wx', 0o600);
        await fh.writeFile(`${process.pid}\n`).finally(() => fh.close());
        return () => unlink(lockPath).catch(() => undefined);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new KeyBindingStoreError(`cannot lock ${this.#path}: ${(err as Error).message}`);
        }
      }
      const held = await stat(lockPath).catch(() => undefined);
      if (held !== undefined && Date.now() - held.mtimeMs > LOCK_STALE_MS) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new KeyBindingStoreError(`${lockPath} is held by another process`);
      await sleep(delay);
    }
  }

  async #write(list: readonly KeyBinding[]): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    const tmp = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(serializeKeyBindings(list), 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.#path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new KeyBindingStoreError(`cannot replace ${this.#path}: ${(err as Error).message}`);
    }
  }
}
