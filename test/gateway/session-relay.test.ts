/**
 * SessionRelay's target-to-client path on channel streams over recording ports (no sockets):
 * the output that one task receives goes to the client as one write per stream run, in order,
 * at most 32 KiB each, and ahead of whatever must follow it (exit status, EOF, close).
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
  it('sends the output of one task as one write, after the task and not before', async () => {
    const { target, toClient, relayed } = await relayPair();
    for (let i = 0; i < 8; i++) target.onData(bytes(3600, i), false);
    expect(toClient).toEqual([]); // still the task that received them
    await tick();
    const out = data(toClient);
    expect(out).toHaveLength(1);
    const first = out[0];
    expect(first?.kind).toBe('data');
    if (first?.kind !== 'data') return;
    expect(first.bytes.length).toBe(8 * 3600);
    for (let i = 0; i < 8; i++) expect(first.bytes[i * 3600]).toBe(i);
    expect(relayed).toEqual([8 * 3600]);
  });

  it('keeps stdout and stderr in the order they came, merging only runs of one stream', async () => {
    const { target, toClient } = await relayPair();
    target.onData(bytes(10, 1), false);
    target.onData(bytes(20, 2), false);
    target.onData(bytes(30, 3), true);
    target.onData(bytes(40, 4), false);
    await tick();
    expect(data(toClient).map((s) => (s.kind === 'data' || s.kind === 'stderr' ? `${s.kind}:${s.bytes.length}` : ''))).toEqual(['data:30', 'stderr:30', 'data:40']);
  });

  it('never merges past 32 KiB, and passes a full-size chunk on at once', async () => {
    const { target, toClient } = await relayPair();
    for (let i = 0; i < 10; i++) target.onData(bytes(5000, i), false);
    await tick();
    expect(data(toClient).map((s) => (s.kind === 'data' ? s.bytes.length : -1))).toEqual([30000, 20000]);
    toClient.length = 0;
    target.onData(bytes(32 * 1024, 7), false);
    expect(data(toClient).map((s) => (s.kind === 'data' ? s.bytes.length : -1))).toEqual([32 * 1024]);
  });

  it('sends the output ahead of the exit status, EOF and close that came in the same task', async () => {
    const { client, target, toClient } = await relayPair();
    target.onData(bytes(100, 1), false);
    target.onData(bytes(100, 2), true);
    void target.onRequest({ type: 'exit-status', status: 3 });
    target.onEof();
    target.onClose();
    await new Promise((r) => client.once('close', r));
    expect(toClient.map((s) => (s.kind === 'request' ? s.type : s.kind))).toEqual(['data', 'stderr', 'exit-status', 'eof', 'close']);
  });
});
