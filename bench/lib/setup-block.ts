/**
 * Short exec sessions through the gateway with our own client, and the gateway CPU they cost:
 * the session set-up measure of bench/run.ts and bench/setup-warmup.ts.
 */
import { readFileSync } from 'node:fs';
import { parsePrivateKey } from '../../src/keys/index.js';
import type { SshChannel } from '../../src/net/channel-stream.js';
import { SshClient, signerFromPrivateKey } from '../../src/net/client.js';
import type { ClientConnection } from '../../src/net/client-connection.js';
import { RECORD_IO_THREAD_NAME } from '../../src/recording/record-io-protocol.js';
import { cpuSeconds, treeCpuSeconds, treeNamedThreadsCpuSeconds } from './proc.js';
import type { Stack } from './stack.js';

/** Our client, logged in as root through the gateway (login@target) or straight to the target. */
export async function ourClient(stack: Stack, viaGateway: boolean): Promise<ClientConnection> {
  const key = parsePrivateKey(readFileSync(stack.keyPath, 'utf8'));
  return SshClient.connect({
    host: '127.0.0.1',
    port: viaGateway ? stack.gatewayPort : stack.sshdPort,
    username: viaGateway ? 'root@target' : 'root',
    verifyHostKey: () => ({ ok: true }),
    auth: [{ type: 'signer', signer: signerFromPrivateKey(key) }],
  });
}

/** A session channel running `command`, with a pty when asked. */
export async function exec(conn: ClientConnection, command: string, pty = false): Promise<SshChannel> {
  const ch = await conn.openChannel({ type: 'session' });
  if (pty) await ch.request({ type: 'pty-req', term: 'xterm', cols: 80, rows: 24, widthPx: 0, heightPx: 0, modes: [] }, true);
  await ch.request({ type: 'exec', command, commandBytes: new TextEncoder().encode(command) }, true);
  return ch;
}

/** One relayed session: connect through the gateway, run `true`, wait for the close, disconnect. */
export async function shortExecSession(stack: Stack): Promise<void> {
  const c = await ourClient(stack, true);
  const ch = await exec(c, 'true');
  ch.resume();
  ch.stderr.resume();
  await new Promise((r) => ch.once('close', r));
  c.disconnect();
}

/** What a block of sessions cost the gateway, per session. */
export interface SetupBlock {
  /** CPU of every gateway process and thread, ms. */
  readonly ms: number;
  /** Of which the primary process (with serve --workers N it accepts and hands over every connection). */
  readonly primaryMs: number;
  /** Of which the recording I/O worker threads (files, fdatasync, hashing). */
  readonly recordingMs: number;
  /** Sessions per second over the block. */
  readonly rate: number;
}

/** Runs `n` short exec sessions, `concurrency` at a time, and measures the gateway's CPU. */
export async function setupBlock(stack: Stack, n: number, concurrency: number): Promise<SetupBlock> {
  const c0 = treeCpuSeconds(stack.gatewayPid);
  const p0 = cpuSeconds(stack.gatewayPid);
  const r0 = treeNamedThreadsCpuSeconds(stack.gatewayPid, RECORD_IO_THREAD_NAME);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        await shortExecSession(stack);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const perSession = (s: number): number => (s / n) * 1000;
  return {
    ms: perSession(treeCpuSeconds(stack.gatewayPid) - c0),
    primaryMs: perSession(cpuSeconds(stack.gatewayPid) - p0),
    recordingMs: perSession(treeNamedThreadsCpuSeconds(stack.gatewayPid, RECORD_IO_THREAD_NAME) - r0),
    rate: n / seconds,
  };
}
