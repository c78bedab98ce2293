/**
 * Flow control with the real OpenSSH client on one connection (ControlMaster): a channel
 * whose reader stops stalls only that channel, and our server's memory stays under a stated
 * ceiling while the writer keeps writing (DESIGN principle 5).
 *
 * Ceiling: heapUsed + arrayBuffers of this process may grow by at most 48 MiB while the
 * stalled channel is offered an unbounded stream; the bytes that got through are bounded by
 * the SSH window (2 MiB by default) plus the buffers of the processes in between.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey } from '../../src/keys/private-key.js';
import { parsePublicKeyLine } from '../../src/keys/public-key.js';
import type { SshChannel } from '../../src/net/channel-stream.js';
import { SshServer } from '../../src/net/server.js';
import { bytesEqual } from '../../src/wire/index.js';
import {
  type GeneratedKey,
  generateKey,
  makeTempDir,
  requireBinaries,
  runSsh,
  spawnSsh,
  stopChild,
  waitFor,
} from '../support/index.js';

const req = requireBinaries('ssh', 'ssh-keygen');
const MiB = 1024 * 1024;
const MEMORY_CEILING = 48 * MiB;

const memory = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(req.skip)(`flow control against the OpenSSH client${req.reason}`, () => {
  let dir: string;
  let key: GeneratedKey;
  let server: SshServer;
  let port: number;
  /** Bytes our writer handed to the 'flood' channel, and bytes received on the 'sink' channel. */
  const stats = { floodWritten: 0, floodWriting: false, sinkReceived: 0, sinkChannel: null as SshChannel | null };

  beforeAll(async () => {
    dir = makeTempDir();
    key = await generateKey(dir, 'user', 'ed25519');
    const allowed = parsePublicKeyLine(key.publicLine).blob;
    server = new SshServer({
      hostKeys: [generatePrivateKey('ssh-ed25519')],
      hooks: {
        authenticate: (_c, _u, check) =>
          (check.kind === 'publickey' || check.kind === 'publickey-query') && bytesEqual(check.key.blob, allowed)
            ? { type: 'accept' }
            : { type: 'reject', reason: 'no' },
        channelOpen: () => ({
          type: 'accept',
          onOpen: (ch) => {
            ch.requestHandler = (r) => {
              if (r.type !== 'exec') return false;
              if (r.command === 'flood') {
                // A writer that keeps writing as fast as the stream lets it (honouring write()).
                const chunk = Buffer.alloc(64 * 1024, 0x61);
                stats.floodWriting = true;
                const pump = () => {
                  while (!ch.destroyed) {
                    stats.floodWritten += chunk.length;
                    if (!ch.write(chunk)) {
                      ch.once('drain', pump);
                      return;
                    }
                  }
                };
                setImmediate(pump);
              } else if (r.command === 'sink') {
                // A consumer that never reads: data stays in the channel's buffers.
                stats.sinkChannel = ch;
              } else {
                ch.end(`${r.command}\n`);
                ch.exit({ status: 0 });
              }
              return true;
            };
          },
        }),
      },
    });
    port = (await server.listen(0, '127.0.0.1')).port;
  });
  afterAll(async () => {
    await server?.close(true);
  });

  const sshOpts = () => ({ port, identity: key.privatePath });

  it('a client that stops reading stalls only its channel; server memory stays bounded', async () => {
    const sock = join(dir, 'mux1');
    const master = spawnSsh(['-M', '-S', sock, '-N', 'root@127.0.0.1'], sshOpts());
    // The flood's stdout is a pipe we never read: ssh stops reading the channel, the window closes.
    const flood = spawnSsh(['-S', sock, 'root@127.0.0.1', 'flood'], { ...sshOpts(), options: ['ControlMaster=no'] });
    try {
      await waitFor(() => (existsSync(sock) ? true : undefined), 'control socket');
      flood.stdout?.pause();
      await waitFor(() => (stats.floodWriting ? true : undefined), 'flood to start');
      await sleep(1000);
      const before = memory();
      const writtenBefore = stats.floodWritten;
      await sleep(3000);
      // Another channel on the same connection still works while the flood is stalled.
      const alive = await runSsh(['-S', sock, 'root@127.0.0.1', 'alive'], { ...sshOpts(), options: ['ControlMaster=no'] });
      expect(alive.stdout).toBe('alive\n');
      const grew = memory() - before;
      // The writer is blocked by the window: almost nothing more went in while the reader slept.
      expect(stats.floodWritten - writtenBefore).toBeLessThan(4 * MiB);
      expect(stats.floodWritten).toBeLessThan(64 * MiB);
      expect(grew).toBeLessThan(MEMORY_CEILING);
      // Reading again lets the writer go on.
      const at = stats.floodWritten;
      flood.stdout?.resume();
      await waitFor(() => (stats.floodWritten > at + 8 * MiB ? true : undefined), 'flood to move again');
    } finally {
      await stopChild(flood);
      await stopChild(master);
    }
  });

  it('a server consumer that stops reading stalls the client writer after one window', async () => {
    const sock = join(dir, 'mux2');
    const master = spawnSsh(['-M', '-S', sock, '-N', 'root@127.0.0.1'], sshOpts());
    await waitFor(() => (existsSync(sock) ? true : undefined), 'control socket');
    // ssh reads an endless /dev/zero and sends it to a channel nobody on the server reads.
    const zero = spawn('sh', ['-c', `exec ssh ${[
      '-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'ControlMaster=no', '-S', sock, '-p', String(port), 'root@127.0.0.1', 'sink',
    ].join(' ')} < /dev/zero`], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await waitFor(() => (stats.sinkChannel !== null ? true : undefined), 'sink channel');
      await sleep(1000);
      const before = memory();
      await sleep(3000);
      const ch = stats.sinkChannel;
      if (ch === null) throw new Error('no sink channel');
      // Everything that arrived sits in the channel's readable buffer, at most one window.
      expect(ch.readableLength).toBeLessThanOrEqual(2 * MiB);
      expect(ch.readableLength).toBeGreaterThan(0);
      expect(memory() - before).toBeLessThan(MEMORY_CEILING);
      const alive = await runSsh(['-S', sock, 'root@127.0.0.1', 'alive2'], { ...sshOpts(), options: ['ControlMaster=no'] });
      expect(alive.stdout).toBe('alive2\n');
      // Consuming re-opens the window and data flows again.
      let got = 0;
      ch.pipe(
        new Writable({
          write(c: Buffer, _e, cb) {
            got += c.length;
            cb();
          },
        }),
      );
      await waitFor(() => (got > 8 * MiB ? true : undefined), 'sink to move again');
    } finally {
      await stopChild(zero);
      await stopChild(master);
    }
  });
});
