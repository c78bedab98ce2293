/**
 * Temporary directories and free loopback ports for tests. Directories are removed by
 * `cleanup()` (or when the process exits, as a backstop), so no test leaves files behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created = new Set<string>();
let exitHookInstalled = false;

/** A fresh private directory (mode 0700) under the OS temp dir; removed at process exit at the latest. */
export function makeTempDir(prefix = 'gatehouse-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of created) removeTempDir(d);
    });
  }
  return dir;
}

/** Removes one directory made by makeTempDir (idempotent). */
export function removeTempDir(dir: string): void {
  created.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Best effort: a process we started may still hold a file open; the exit hook retries.
  }
}

/**
 * A TCP port on 127.0.0.1 that the OS considered free a moment ago (listen on 0, read, close).
 * Only for handing to external programs such as sshd that need a port number up front; our own
 * servers should listen on 0 directly.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}
