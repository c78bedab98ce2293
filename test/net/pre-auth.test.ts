/**
 * A connection-protocol message before authentication ends the connection (the Erlang/OTP
 * CVE-2025-32433 class), at the socket level: our transport machine as a raw client finishes
 * the key exchange, then sends CHANNEL_OPEN (and, separately, a GLOBAL_REQUEST) instead of
 * authenticating. The server must answer DISCONNECT protocol error (2) and log the denial.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeConnectionMessage } from '../../src/connection/messages.js';
import { Transport } from '../../src/transport/transport.js';
import type { TransportEvent } from '../../src/transport/transport-types.js';
import { defaultSignatureVerifier } from '../../src/keys/signature.js';
import { SshWriter } from '../../src/wire/index.js';
import { makeTempDir } from '../support/index.js';
import { startTestServer } from './test-server.js';

/** Connects, completes KEX, sends `payload`, resolves with the disconnect the server sent. */
function sendBeforeAuth(port: number, payload: Uint8Array): Promise<Extract<TransportEvent, { type: 'disconnect' }>> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const t = new Transport(
      {
        write: (b) => socket.write(b),
        event: (ev) => {
          if (ev.type === 'host-key') t.acceptHostKey();
          else if (ev.type === 'kex-complete' && ev.initial) t.send(payload);
          else if (ev.type === 'disconnect') {
            socket.destroy();
            resolve(ev);
          }
        },
      },
      { role: 'client', verifySignature: defaultSignatureVerifier },
    );
    socket.on('data', (d: Buffer) => t.receive(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    socket.on('error', reject);
    socket.on('connect', () => t.start());
  });
}

describe('connection messages before authentication', () => {
  it.each([
    [
      'CHANNEL_OPEN session',
      encodeConnectionMessage({ type: 'channel-open', senderChannel: 0, initialWindow: 65536, maxPacket: 32768, open: { type: 'session' } }),
    ],
    ['GLOBAL_REQUEST tcpip-forward', new SshWriter().byte(80).string('tcpip-forward').bool(true).string('0.0.0.0').uint32(2222).finish()],
  ])('%s gets DISCONNECT protocol error', async (_name, payload) => {
    const ts = await startTestServer({ dir: makeTempDir() });
    try {
      const d = await sendBeforeAuth(ts.port, payload);
      expect(d.byPeer).toBe(true);
      expect(d.reason).toBe(2);
      expect(d.description).toMatch(/before authentication/);
      expect(ts.denials.some((x) => x.kind === 'disconnect' && /before authentication/.test(x.reason))).toBe(true);
      expect(ts.server.activeConnections.length).toBe(0);
    } finally {
      await ts.stop();
    }
  });
});
