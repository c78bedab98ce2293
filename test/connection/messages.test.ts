import { describe, expect, it } from 'vitest';
import {
  type ChannelOpen,
  type ChannelRequest,
  type ConnectionMessage,
  decodeConnectionMessage,
  decodeTerminalModes,
  encodeConnectionMessage,
  encodeTerminalModes,
  execRequest,
  type GlobalRequest,
  readBoundPort,
  terminalModeValue,
} from '../../src/connection/index.js';
import { SshProtocolError, WireError } from '../../src/wire/index.js';
import { mutate, randomBytes, rng } from '../auth/fuzz-util.js';

const OPENS: ChannelOpen[] = [
  { type: 'session' },
  { type: 'direct-tcpip', host: 'db1.internal', port: 5432, originHost: '192.0.2.1', originPort: 60000 },
  { type: 'forwarded-tcpip', connectedHost: '0.0.0.0', connectedPort: 8080, originHost: '198.51.100.7', originPort: 1234 },
  { type: 'x11', originHost: '127.0.0.1', originPort: 6010 },
  { type: 'auth-agent@openssh.com' },
  { type: 'direct-streamlocal@openssh.com', socketPath: '/run/app.sock' },
  { type: 'forwarded-streamlocal@openssh.com', socketPath: '/tmp/fwd.sock' },
  { type: 'unknown', channelType: 'tun@openssh.com', data: Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0) },
];

const REQUESTS: ChannelRequest[] = [
  { type: 'pty-req', term: 'vt100', cols: 80, rows: 24, widthPx: 640, heightPx: 480, modes: [{ opcode: 3, name: 'VERASE', value: 127 }] },
  { type: 'x11-req', singleConnection: true, authProtocol: 'MIT-MAGIC-COOKIE-1', authCookie: 'deadbeef', screen: 0 },
  { type: 'env', name: 'LANG', value: 'C.UTF-8' },
  { type: 'shell' },
  execRequest('ls -la /tmp'),
  { type: 'exec', command: 'a\uFFFDb', commandBytes: Uint8Array.of(0x61, 0xff, 0x62) },
  { type: 'subsystem', name: 'sftp' },
  { type: 'window-change', cols: 200, rows: 50, widthPx: 0, heightPx: 0 },
  { type: 'xon-xoff', clientCanDo: true },
  { type: 'signal', signal: 'TERM' },
  { type: 'break', lengthMs: 300 },
  { type: 'exit-status', status: 255 },
  { type: 'exit-signal', signal: 'KILL', coreDumped: false, message: 'killed', language: '' },
  { type: 'eow@openssh.com' },
  { type: 'auth-agent-req@openssh.com' },
  { type: 'unknown', name: 'keepalive@openssh.com', data: new Uint8Array(0) },
];

const GLOBALS: GlobalRequest[] = [
  { type: 'tcpip-forward', address: 'localhost', port: 0 },
  { type: 'cancel-tcpip-forward', address: '', port: 2222 },
  { type: 'streamlocal-forward@openssh.com', socketPath: '/tmp/s' },
  { type: 'cancel-streamlocal-forward@openssh.com', socketPath: '/tmp/s' },
  { type: 'keepalive@openssh.com' },
  { type: 'no-more-sessions@openssh.com' },
  { type: 'hostkeys-00@openssh.com', hostKeys: [Uint8Array.of(1, 2), Uint8Array.of(3)] },
  { type: 'hostkeys-prove-00@openssh.com', hostKeys: [] },
  { type: 'unknown', name: 'x@example.com', data: Uint8Array.of(9) },
];

const MESSAGES: ConnectionMessage[] = [
  ...GLOBALS.map((request, i): ConnectionMessage => ({ type: 'global-request', wantReply: i % 2 === 0, request })),
  { type: 'request-success', data: Uint8Array.of(0, 0, 0x9c, 0x40) },
  { type: 'request-success', data: new Uint8Array(0) },
  { type: 'request-failure' },
  ...OPENS.map((open, i): ConnectionMessage => ({ type: 'channel-open', senderChannel: i, initialWindow: 2 ** 21, maxPacket: 32768, open })),
  { type: 'channel-open-confirmation', recipientChannel: 1, senderChannel: 2, initialWindow: 0xffffffff, maxPacket: 16384, data: new Uint8Array(0) },
  { type: 'channel-open-failure', recipientChannel: 3, reason: 2, description: 'connect failed', language: 'en' },
  { type: 'channel-window-adjust', recipientChannel: 4, bytes: 65536 },
  { type: 'channel-data', recipientChannel: 5, data: Uint8Array.of(1, 2, 3) },
  { type: 'channel-extended-data', recipientChannel: 6, dataType: 1, data: Uint8Array.of(4) },
  { type: 'channel-eof', recipientChannel: 7 },
  { type: 'channel-close', recipientChannel: 8 },
  ...REQUESTS.map((request, i): ConnectionMessage => ({ type: 'channel-request', recipientChannel: i, wantReply: i % 3 === 0, request })),
  { type: 'channel-success', recipientChannel: 9 },
  { type: 'channel-failure', recipientChannel: 10 },
];

describe('connection message codecs', () => {
  it.each(MESSAGES.map((m, i) => [i, m.type, m] as const))('round-trips sample %i (%s)', (_i, _t, m) => {
    const enc = encodeConnectionMessage(m);
    expect(decodeConnectionMessage(enc)).toEqual(m);
    expect(encodeConnectionMessage(decodeConnectionMessage(enc))).toEqual(enc);
  });

  it('rejects trailing bytes, truncation, foreign ids and bad bound ports', () => {
    const eof = encodeConnectionMessage({ type: 'channel-eof', recipientChannel: 1 });
    expect(() => decodeConnectionMessage(Uint8Array.of(...eof, 0))).toThrow(WireError);
    expect(() => decodeConnectionMessage(eof.subarray(0, 3))).toThrow(WireError);
    expect(() => decodeConnectionMessage(Uint8Array.of(50))).toThrow(WireError);
    expect(() => decodeConnectionMessage(Uint8Array.of(94, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff))).toThrow(WireError);
    expect(readBoundPort(Uint8Array.of(0, 0, 0x1f, 0x90))).toBe(8080);
    expect(() => readBoundPort(Uint8Array.of(0, 1, 0, 0))).toThrow(WireError);
    expect(() => readBoundPort(Uint8Array.of(0, 0, 0))).toThrow(WireError);
  });

  it('fuzz: random and mutated inputs only ever raise typed errors', () => {
    const rand = rng(4254);
    const valid = MESSAGES.map((m) => encodeConnectionMessage(m));
    for (let i = 0; i < 30_000; i++) {
      const base = valid[i % valid.length] ?? new Uint8Array(0);
      const input = i % 4 === 0 ? Uint8Array.of(base[0] ?? 80, ...randomBytes(rand, Math.floor(rand() * 80))) : mutate(rand, base);
      try {
        const m = decodeConnectionMessage(input);
        expect(decodeConnectionMessage(encodeConnectionMessage(m))).toEqual(m);
      } catch (e) {
        if (!(e instanceof WireError) && !(e instanceof SshProtocolError)) throw e;
      }
    }
  });
});

describe('terminal modes (RFC 4254 §8)', () => {
  it('decodes modes by name and stops at TTY_OP_END or an opcode of 160 and above', () => {
    const enc = encodeTerminalModes([
      { opcode: 1, name: 'VINTR', value: 3 },
      { opcode: 129, name: 'TTY_OP_OSPEED', value: 38400 },
    ]);
    const modes = decodeTerminalModes(Uint8Array.of(...enc.subarray(0, enc.length - 1), 160, 1, 2, 3));
    expect(modes.map((m) => m.name)).toEqual(['VINTR', 'TTY_OP_OSPEED']);
    expect(terminalModeValue(modes, 'VINTR')).toBe(3);
    expect(decodeTerminalModes(new Uint8Array(0))).toEqual([]);
    expect(decodeTerminalModes(Uint8Array.of(99, 0, 0, 0, 1, 0))).toEqual([{ opcode: 99, name: undefined, value: 1 }]);
    expect(() => decodeTerminalModes(Uint8Array.of(53, 0, 0))).toThrow(WireError);
    expect(() => encodeTerminalModes([{ opcode: 0, name: undefined, value: 0 }])).toThrow(RangeError);
  });

  it('bounds the number of modes', () => {
    const many = new Uint8Array(5 * 300 + 1);
    for (let i = 0; i < 300; i++) many[i * 5] = 1;
    expect(() => decodeTerminalModes(many)).toThrow(WireError);
  });

  it('fuzz: random mode strings only ever raise WireError', () => {
    const rand = rng(8);
    for (let i = 0; i < 5000; i++) {
      try {
        decodeTerminalModes(randomBytes(rand, Math.floor(rand() * 64)));
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }
  });
});
