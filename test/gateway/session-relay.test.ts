/**
 * SessionRelay's target-to-client path on channel streams over recording ports (no sockets):
 * the first chunk a task receives goes to the client at once, the rest of that task's output as
 * one write per stream run at its end, in order, at most 32 KiB each, and all of it ahead of
 * whatever must follow (exit status, EOF, close).
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ChannelRequest } from '../../src/connection/index.js';
import { SessionRelay, type SessionRelayHost } from '../../src/gateway/session-relay.js';
import { type ChannelPort, SshChannel } from '../../src/net/channel-stream.js';

type Sent = { readonly kind: 'data' | 'stderr'; readonly bytes: Uint8Array } | { readonly kind: 'request'; readonly type: string } | { readonly kind: 'eof' | 'close' };

function recordingPort(sent: Sent[]): ChannelPort {
  return {
    remoteWindow: () => 2 * 1024 * 1024,
    remoteMaxPacket: () => 32 * 1024,
    canSend: () => true,
    sendData: (data, stderr) => sent.push({ kind: stderr ? 'stderr' : 'data', bytes: Uint8Array.from(data) }),
    sendEof: () => sent.push({ kind: 'eof' }),
    sendClose: () => sent.push({ kind: 'close' }),
    consumed: () => {},
    request: (r: ChannelRequest) => {
      sent.push({ kind: 'request', type: r.type });
      return Promise.resolve(true);
    },
  };
}

async function relayPair() {
  const toClient: Sent[] = [];
  const toTarget: Sent[] = [];
  const client = new SshChannel(0, recordingPort(toClient));
  const target = new SshChannel(1, recordingPort(toTarget), 64 * 1024, true);
  const relayed: number[] = [];
  const host: SessionRelayHost = {
    authorize: () => {
      throw new Error('no request is made in these tests');
    },
    openRecording: () => Promise.reject(new Error('not recorded')),
    openSftpAudit: () => {
      throw new Error('no sftp here');
    },
    relayed: (direction, bytes) => {
      if (direction === 'target-to-client') relayed.push(bytes);
    },
    ended: () => {},
  };
  const relay = new SessionRelay(client, target, host, null);
  await tick(); // the relay's 'data' listeners have set both streams flowing
  return { client, target, toClient, relayed, relay };
}

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const data = (sent: readonly Sent[]) => sent.filter((s) => s.kind === 'data' || s.kind === 'stderr');

describe('SessionRelay, target to client', () => {
  it('sends the first chunk of a task at once and the rest of it as one write at its end', async () => {
    const { target, toClient, relayed } = await relayPair();
    for (let i = 0; i < 8; i++) target.onData(bytes(3600, i), false);
    // an echo waits for nothing: the first chunk is out while the task still runs
    expect(data(toClient).map((s) => (s.kind === 'data' ? s.bytes.length : -1))).toEqual([3600]);
    await tick();
    const out = data(toClient);
    expect(out.map((s) => (s.kind === 'data' ? s.bytes.length : -1))).toEqual([3600, 7 * 3600]);
    const rest = out[1];
    if (rest?.kind !== 'data') throw new Error('expected stdout');
    for (let i = 1; i < 8; i++) expect(rest.bytes[(i - 1) * 3600]).toBe(i);
    expect(relayed).toEqual([3600, 7 * 3600]);
    // the next task starts afresh
    toClient.length = 0;
    target.onData(bytes(10, 9), false);
    expect(data(toClient)).toHaveLength(1);
  });

  it('keeps stdout and stderr in the order they came, merging only runs of one stream', async () => {
    const { target, toClient } = await relayPair();
    target.onData(bytes(5, 0), false);
    target.onData(bytes(10, 1), false);
    target.onData(bytes(20, 2), false);
    target.onData(bytes(30, 3), true);
    target.onData(bytes(40, 4), false);
    await tick();
    expect(data(toClient).map((s) => (s.kind === 'data' || s.kind === 'stderr' ? `${s.kind}:${s.bytes.length}` : ''))).toEqual(['data:5', 'data:30', 'stderr:30', 'data:40']);
  });

  it('never merges past 32 KiB, and passes a full-size chunk on at once', async () => {
    const { target, toClient } = await relayPair();
    for (let i = 0; i < 11; i++) target.onData(bytes(5000, i), false);
    await tick();
    expect(data(toClient).map((s) => (s.kind === 'data' ? s.bytes.length : -1))).toEqual([5000, 30000, 20000]);
    toClient.length = 0;
    target.onData(bytes(100, 6), false);
    target.onData(bytes(32 * 1024, 7), false);
    expect(data(toClient).map((s) => (s.kind === 'data' ? s.bytes.length : -1))).toEqual([100, 32 * 1024]);
  });

  it('sends the output ahead of the exit status, EOF and close that came in the same task', async () => {
    const { client, target, toClient } = await relayPair();
    target.onData(bytes(100, 1), false);
    target.onData(bytes(100, 2), false);
    target.onData(bytes(100, 3), true);
    void target.onRequest({ type: 'exit-status', status: 3 });
    target.onEof();
    target.onClose();
    await new Promise((r) => client.once('close', r));
    expect(toClient.map((s) => (s.kind === 'request' ? s.type : s.kind))).toEqual(['data', 'data', 'stderr', 'exit-status', 'eof', 'close']);
  });
});
