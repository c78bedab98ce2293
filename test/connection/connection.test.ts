import { describe, expect, it } from 'vitest';
import {
  type ChannelId,
  ChannelOpenFailure,
  ChannelStateError,
  type ConnectionEvent,
  decodeConnectionMessage,
  encodeConnectionMessage,
  execRequest,
  SshConnection,
} from '../../src/connection/index.js';
import { Msg, SshProtocolError } from '../../src/wire/index.js';
import { acceptAll, ConnectionPair } from './connection-pair.js';

const ofType = ConnectionPair.ofType;

function openSession(pair: ConnectionPair): ChannelId {
  pair.onServerEvent = acceptAll;
  const ch = pair.client.openChannel({ type: 'session' });
  pair.pump();
  expect(ofType(pair.clientEvents, 'open-confirmed')).toContainEqual({ type: 'open-confirmed', channel: ch });
  return ch;
}

function serverChannel(pair: ConnectionPair): ChannelId {
  const req = ofType(pair.serverEvents, 'open-request').at(-1);
  if (req === undefined) throw new Error('no open request');
  return req.channel;
}

describe('session channel lifecycle', () => {
  it('exec, output, exit-status, EOF and CLOSE arrive in order and free both ids', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    pair.client.sendRequest(ch, execRequest('uname -a'), true);
    pair.onServerEvent = (e, p) => {
      if (e.type === 'channel-request' && e.token !== null) p.server.replyRequest(e.token, true);
    };
    pair.pump();
    const req = ofType(pair.serverEvents, 'channel-request')[0];
    expect(req?.request).toMatchObject({ type: 'exec', command: 'uname -a' });
    expect(ofType(pair.clientEvents, 'channel-reply')).toEqual([
      { type: 'channel-reply', channel: ch, request: execRequest('uname -a'), ok: true },
    ]);
    expect(pair.server.send(sch, new TextEncoder().encode('Linux\n'))).toBe(6);
    pair.server.sendExtended(sch, new TextEncoder().encode('warn\n'));
    pair.server.sendRequest(sch, { type: 'exit-status', status: 3 }, false);
    pair.server.eof(sch);
    pair.server.close(sch);
    pair.clientEvents.length = 0;
    pair.pump();
    expect(pair.clientEvents.map((e) => e.type)).toEqual(['data', 'extended-data', 'channel-request', 'eof', 'close']);
    expect(ofType(pair.clientEvents, 'channel-request')[0]?.request).toEqual({ type: 'exit-status', status: 3 });
    expect(ofType(pair.serverEvents, 'close')).toEqual([{ type: 'close', channel: sch }]);
    expect(pair.client.channelCount).toBe(0);
    expect(pair.server.channelCount).toBe(0);
  });

  it('half-close: data still flows the other way after one side sent EOF', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    pair.client.eof(ch);
    pair.pump();
    expect(() => pair.client.send(ch, Uint8Array.of(1))).toThrow(ChannelStateError);
    expect(pair.server.send(sch, Uint8Array.of(1, 2))).toBe(2);
    pair.pump();
    expect(ofType(pair.serverEvents, 'eof')).toHaveLength(1);
    expect(ofType(pair.clientEvents, 'data')[0]?.data).toEqual(Uint8Array.of(1, 2));
  });

  it('a refused open frees the id and reports the reason', () => {
    const pair = new ConnectionPair();
    pair.onServerEvent = (e, p) => {
      if (e.type === 'open-request') p.server.rejectChannel(e.channel, ChannelOpenFailure.CONNECT_FAILED, 'no route');
    };
    const ch = pair.client.openChannel({ type: 'direct-tcpip', host: 'db1', port: 22, originHost: '127.0.0.1', originPort: 5000 });
    pair.pump();
    expect(ofType(pair.clientEvents, 'open-failed')).toEqual([{ type: 'open-failed', channel: ch, reason: 2, description: 'no route' }]);
    expect(pair.client.channelCount).toBe(0);
    expect(ofType(pair.serverEvents, 'open-request')[0]?.open).toEqual({
      type: 'direct-tcpip', host: 'db1', port: 22, originHost: '127.0.0.1', originPort: 5000,
    });
  });

  it('pty-req arrives with decoded terminal modes; window-change, signal and break are typed', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const modes = [
      { opcode: 53, name: 'ECHO', value: 1 },
      { opcode: 128, name: 'TTY_OP_ISPEED', value: 38400 },
      { opcode: 42, name: 'IUTF8', value: 1 },
    ];
    pair.client.sendRequest(ch, { type: 'pty-req', term: 'xterm-256color', cols: 80, rows: 24, widthPx: 0, heightPx: 0, modes }, false);
    pair.client.sendRequest(ch, { type: 'window-change', cols: 120, rows: 40, widthPx: 0, heightPx: 0 }, false);
    pair.client.sendRequest(ch, { type: 'signal', signal: 'INT' }, false);
    pair.client.sendRequest(ch, { type: 'break', lengthMs: 500 }, false);
    pair.client.sendRequest(ch, { type: 'x11-req', singleConnection: false, authProtocol: 'MIT-MAGIC-COOKIE-1', authCookie: 'ab', screen: 0 }, true);
    pair.onServerEvent = (e, p) => {
      if (e.type === 'channel-request' && e.token !== null) p.server.replyRequest(e.token, false); // X11 refused
    };
    pair.pump();
    const reqs = ofType(pair.serverEvents, 'channel-request').map((e) => e.request);
    expect(reqs[0]).toEqual({ type: 'pty-req', term: 'xterm-256color', cols: 80, rows: 24, widthPx: 0, heightPx: 0, modes });
    expect(reqs.slice(1).map((r) => r.type)).toEqual(['window-change', 'signal', 'break', 'x11-req']);
    expect(ofType(pair.clientEvents, 'channel-reply').map((e) => e.ok)).toEqual([false]);
  });
});

describe('flow control', () => {
  it('a writer limited by a reader that never consumes stays within the window', () => {
    const windowSize = 64 * 1024;
    const pair = new ConnectionPair({}, { windowSize });
    const ch = openSession(pair);
    const chunk = new Uint8Array(10_000);
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      accepted += pair.client.send(ch, chunk);
      pair.pump();
    }
    const received = ofType(pair.serverEvents, 'data').reduce((n, e) => n + e.data.length, 0);
    expect(accepted).toBe(windowSize);
    expect(received).toBe(windowSize);
    expect(pair.client.remoteWindow(ch)).toBe(0);
    expect(pair.client.send(ch, chunk)).toBe(0);
    expect(pair.server.channelInfo(serverChannel(pair))?.unconsumed).toBe(windowSize);
  });

  it('consumption re-opens the window with WINDOW_ADJUST and a window event', () => {
    const windowSize = 64 * 1024;
    const pair = new ConnectionPair({}, { windowSize });
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    pair.client.send(ch, new Uint8Array(windowSize));
    pair.pump();
    pair.server.consumed(sch, 1000);
    expect(pair.pump()).toBe(0); // too little to be worth an adjust
    pair.server.consumed(sch, windowSize / 2);
    pair.pump();
    expect(ofType(pair.clientEvents, 'window')).toEqual([{ type: 'window', channel: ch, available: 1000 + windowSize / 2 }]);
    expect(pair.client.remoteWindow(ch)).toBe(1000 + windowSize / 2);
    expect(() => pair.server.consumed(sch, windowSize)).toThrow(ChannelStateError);
  });

  it('streams 4 MiB through a 128 KiB window when the reader consumes', () => {
    const pair = new ConnectionPair({}, { windowSize: 128 * 1024 });
    const ch = openSession(pair);
    pair.onServerEvent = (e, p) => {
      if (e.type === 'data') p.server.consumed(e.channel, e.data.length);
    };
    const total = 4 * 1024 * 1024;
    let sent = 0;
    let received = 0;
    pair.onServerEvent = (e, p) => {
      if (e.type === 'data') {
        received += e.data.length;
        p.server.consumed(e.channel, e.data.length);
      }
    };
    const block = new Uint8Array(50_000);
    while (sent < total) {
      const n = pair.client.send(ch, block.subarray(0, Math.min(block.length, total - sent)));
      sent += n;
      if (pair.pump() === 0 && n === 0) throw new Error('stalled');
    }
    pair.pump();
    expect(received).toBe(total);
  });

  it('splits data to the peer maximum packet size', () => {
    const pair = new ConnectionPair({}, { maxPacket: 1000 });
    const ch = openSession(pair);
    pair.toServer.length = 0;
    expect(pair.client.remoteMaxPacket(ch)).toBe(1000);
    pair.client.send(ch, new Uint8Array(4500));
    const sizes = pair.toServer.map((p) => decodeConnectionMessage(p)).map((m) => (m.type === 'channel-data' ? m.data.length : -1));
    expect(sizes).toEqual([1000, 1000, 1000, 1000, 500]);
    pair.pump();
  });

  it('advertises a maximum packet of 128 KiB by default, and holds the peer to it', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    expect(pair.server.remoteMaxPacket(serverChannel(pair))).toBe(32 * 1024); // capped by maxSendPacket
    const sch = serverChannel(pair);
    const full = encodeConnectionMessage({ type: 'channel-data', recipientChannel: sch, data: new Uint8Array(128 * 1024) });
    const events = pair.server.handle(full);
    expect(events.some((e) => e.type === 'data' && e.data.length === 128 * 1024)).toBe(true);
    const over = encodeConnectionMessage({ type: 'channel-data', recipientChannel: ch, data: new Uint8Array(128 * 1024 + 1) });
    expect(() => pair.client.handle(over)).toThrow(SshProtocolError);
  });

  it('a peer that overruns our window or our maximum packet is cut off', () => {
    const pair = new ConnectionPair({}, { windowSize: 100, maxPacket: 100 });
    openSession(pair);
    const sch = serverChannel(pair);
    const over = encodeConnectionMessage({ type: 'channel-data', recipientChannel: sch, data: new Uint8Array(101) });
    expect(() => pair.server.handle(over)).toThrow(SshProtocolError);
  });

  it('a window adjust beyond 2^32-1 is a protocol error', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const adj = encodeConnectionMessage({ type: 'channel-window-adjust', recipientChannel: ch, bytes: 0xffffffff });
    expect(() => pair.client.handle(adj)).toThrow(SshProtocolError);
  });

  it('data after EOF, and messages for unknown channels, are protocol errors; data after our CLOSE is dropped', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    pair.server.handle(encodeConnectionMessage({ type: 'channel-eof', recipientChannel: sch }));
    expect(() => pair.server.handle(encodeConnectionMessage({ type: 'channel-data', recipientChannel: sch, data: Uint8Array.of(1) }))).toThrow(SshProtocolError);
    expect(() => pair.server.handle(encodeConnectionMessage({ type: 'channel-eof', recipientChannel: 77 }))).toThrow(SshProtocolError);
    pair.client.close(ch);
    expect(pair.client.handle(encodeConnectionMessage({ type: 'channel-data', recipientChannel: ch, data: Uint8Array.of(1) }))).toEqual([]);
  });
});

describe('requests and replies', () => {
  it('an unknown channel request with want-reply gets CHANNEL_FAILURE, never silence, after earlier replies', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const held: ConnectionEvent[] = [];
    pair.onServerEvent = (e) => held.push(e);
    pair.client.sendRequest(ch, { type: 'env', name: 'LANG', value: 'C' }, true);
    pair.client.sendRequest(ch, { type: 'unknown', name: 'frobnicate@example.com', data: Uint8Array.of(1) }, true);
    pair.pump();
    // the env request is still undecided: the automatic failure must wait behind it
    expect(ofType(pair.clientEvents, 'channel-reply')).toEqual([]);
    expect(ofType(held, 'request-refused')[0]).toMatchObject({ name: 'frobnicate@example.com' });
    const env = ofType(held, 'channel-request')[0];
    if (env?.token == null) throw new Error('no token');
    pair.server.replyRequest(env.token, true);
    pair.pump();
    expect(ofType(pair.clientEvents, 'channel-reply').map((e) => [e.request.type, e.ok])).toEqual([
      ['env', true],
      ['unknown', false],
    ]);
  });

  it('session requests on a non-session channel are refused by the machine', () => {
    const pair = new ConnectionPair();
    pair.onServerEvent = acceptAll;
    const ch = pair.client.openChannel({ type: 'direct-tcpip', host: 'h', port: 1, originHost: 'o', originPort: 2 });
    pair.pump();
    pair.client.sendRequest(ch, { type: 'shell' }, true);
    pair.pump();
    expect(ofType(pair.serverEvents, 'channel-request')).toEqual([]);
    expect(ofType(pair.clientEvents, 'channel-reply').map((e) => e.ok)).toEqual([false]);
  });

  it('an unknown global request gets REQUEST_FAILURE; keepalive too, without bothering the driver', () => {
    const pair = new ConnectionPair();
    pair.client.sendGlobalRequest({ type: 'unknown', name: 'x@example.com', data: new Uint8Array(0) }, true);
    pair.client.sendGlobalRequest({ type: 'keepalive@openssh.com' }, true);
    pair.server.sendGlobalRequest({ type: 'hostkeys-00@openssh.com', hostKeys: [Uint8Array.of(1)] }, false);
    pair.pump();
    expect(ofType(pair.clientEvents, 'global-reply').map((e) => [e.request.type, e.ok])).toEqual([
      ['unknown', false],
      ['keepalive@openssh.com', false],
    ]);
    expect(ofType(pair.serverEvents, 'global-request')).toEqual([]);
    expect(ofType(pair.clientEvents, 'global-request')).toEqual([]);
  });

  it('tcpip-forward with port 0 carries the allocated port back; replies stay in order', () => {
    const pair = new ConnectionPair();
    const held: ConnectionEvent[] = [];
    pair.onServerEvent = (e) => held.push(e);
    pair.client.sendGlobalRequest({ type: 'tcpip-forward', address: 'localhost', port: 0 }, true);
    pair.client.sendGlobalRequest({ type: 'cancel-tcpip-forward', address: 'localhost', port: 9 }, true);
    pair.pump();
    const [fwd, cancel] = ofType(held, 'global-request');
    if (fwd?.token == null || cancel?.token == null) throw new Error('no tokens');
    pair.server.replyGlobalRequest(cancel.token, false);
    expect(pair.pump()).toBe(0); // the second reply waits for the first
    expect(() => pair.server.replyGlobalRequest(fwd.token as never, true)).toThrow(ChannelStateError);
    pair.server.replyGlobalRequest(fwd.token, true, 40_000);
    pair.pump();
    expect(ofType(pair.clientEvents, 'global-reply').map((e) => [e.request.type, e.ok, e.boundPort])).toEqual([
      ['tcpip-forward', true, 40_000],
      ['cancel-tcpip-forward', false, undefined],
    ]);
  });

  it('no-more-sessions refuses further session opens', () => {
    const pair = new ConnectionPair();
    openSession(pair);
    pair.client.sendGlobalRequest({ type: 'no-more-sessions@openssh.com' }, false);
    pair.pump();
    expect(ofType(pair.serverEvents, 'no-more-sessions')).toHaveLength(1);
    const ch = pair.client.openChannel({ type: 'session' });
    pair.pump();
    expect(ofType(pair.clientEvents, 'open-failed')).toMatchObject([{ channel: ch, reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED }]);
    expect(ofType(pair.serverEvents, 'open-refused')).toHaveLength(1);
    // other channel types still open
    pair.client.openChannel({ type: 'direct-tcpip', host: 'h', port: 1, originHost: 'o', originPort: 2 });
    pair.pump();
    expect(ofType(pair.clientEvents, 'open-confirmed')).toHaveLength(2);
  });

  it('refuses channel types by role, unknown types and too many channels', () => {
    const pair = new ConnectionPair({}, { maxChannels: 2 });
    pair.onServerEvent = acceptAll;
    pair.client.openChannel({ type: 'forwarded-tcpip', connectedHost: 'a', connectedPort: 1, originHost: 'b', originPort: 2 });
    pair.client.openChannel({ type: 'unknown', channelType: 'foo@example.com', data: new Uint8Array(0) });
    pair.client.openChannel({ type: 'session' });
    pair.client.openChannel({ type: 'session' });
    pair.client.openChannel({ type: 'session' });
    pair.pump();
    expect(ofType(pair.clientEvents, 'open-failed').map((e) => e.reason)).toEqual([
      ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED,
      ChannelOpenFailure.UNKNOWN_CHANNEL_TYPE,
      ChannelOpenFailure.RESOURCE_SHORTAGE,
    ]);
    expect(pair.server.channelCount).toBe(2);
  });

  it('the client accepts forwarded-tcpip and auth-agent channels from the server, not sessions', () => {
    const pair = new ConnectionPair();
    pair.onClientEvent = (e, p) => {
      if (e.type === 'open-request') p.client.acceptChannel(e.channel);
    };
    pair.server.openChannel({ type: 'forwarded-tcpip', connectedHost: '127.0.0.1', connectedPort: 8080, originHost: '10.0.0.1', originPort: 5555 });
    pair.server.openChannel({ type: 'auth-agent@openssh.com' });
    pair.server.openChannel({ type: 'session' });
    pair.pump();
    expect(ofType(pair.serverEvents, 'open-confirmed')).toHaveLength(2);
    expect(ofType(pair.serverEvents, 'open-failed')).toHaveLength(1);
  });

  it('a reply without a request is a protocol error', () => {
    const c = new SshConnection({ role: 'client', sink: () => {} });
    expect(() => c.handle(Uint8Array.of(Msg.REQUEST_SUCCESS))).toThrow(SshProtocolError);
  });
});

describe('machine fuzz', () => {
  it('random and mutated payloads into live machines raise only protocol errors', async () => {
    const { mutate, randomBytes, rng } = await import('../auth/fuzz-util.js');
    const { WireError } = await import('../../src/wire/index.js');
    const rand = rng(97);
    const pair = new ConnectionPair({}, { windowSize: 4096, maxPacket: 1024 });
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    const seeds = [
      encodeConnectionMessage({ type: 'channel-data', recipientChannel: sch, data: new Uint8Array(10) }),
      encodeConnectionMessage({ type: 'channel-request', recipientChannel: sch, wantReply: true, request: { type: 'shell' } }),
      encodeConnectionMessage({ type: 'channel-window-adjust', recipientChannel: sch, bytes: 10 }),
      encodeConnectionMessage({ type: 'global-request', wantReply: true, request: { type: 'tcpip-forward', address: 'a', port: 0 } }),
      encodeConnectionMessage({ type: 'channel-open', senderChannel: 5, initialWindow: 100, maxPacket: 100, open: { type: 'session' } }),
      encodeConnectionMessage({ type: 'channel-close', recipientChannel: sch }),
      encodeConnectionMessage({ type: 'channel-success', recipientChannel: sch }),
    ];
    let protocolErrors = 0;
    for (let i = 0; i < 5000; i++) {
      const fresh = new SshConnection({ role: 'server', sink: () => {}, maxChannels: 4, maxPendingRequests: 4 });
      const target = i % 2 === 0 ? pair.server : fresh;
      const base = seeds[i % seeds.length] ?? new Uint8Array(0);
      const input = i % 5 === 0 ? Uint8Array.of(80 + (i % 21), ...randomBytes(rand, Math.floor(rand() * 40))) : mutate(rand, base);
      try {
        target.handle(input);
      } catch (e) {
        if (!(e instanceof WireError) && !(e instanceof SshProtocolError)) throw e;
        protocolErrors++;
      }
    }
    expect(protocolErrors).toBeGreaterThan(0);
    expect(ch).toBeDefined();
  });
});

describe('closing early', () => {
  it('close() while opening sends CLOSE once confirmed and ends with a close event', () => {
    const pair = new ConnectionPair();
    const held: ConnectionEvent[] = [];
    pair.onServerEvent = (e) => held.push(e);
    const ch = pair.client.openChannel({ type: 'session' });
    pair.pump();
    pair.client.close(ch);
    const req = ofType(held, 'open-request')[0];
    if (req === undefined) throw new Error('no open request');
    pair.server.acceptChannel(req.channel);
    pair.pump();
    expect(pair.clientEvents.map((e) => e.type)).toEqual(['close']);
    expect(ofType(pair.serverEvents, 'close')).toHaveLength(1);
    expect(pair.client.channelCount).toBe(0);
    expect(pair.server.channelCount).toBe(0);
  });

  it('close() while opening ends with open-failed when the peer refuses', () => {
    const pair = new ConnectionPair();
    pair.onServerEvent = (e, p) => {
      if (e.type === 'open-request') p.server.rejectChannel(e.channel, ChannelOpenFailure.CONNECT_FAILED, 'x');
    };
    const ch = pair.client.openChannel({ type: 'session' });
    pair.client.close(ch);
    pair.pump();
    expect(pair.clientEvents.map((e) => e.type)).toEqual(['open-failed']);
  });

  it('an env value with a non-UTF-8 byte is delivered, not fatal', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    pair.toServer.push(
      Uint8Array.of(Msg.CHANNEL_REQUEST, 0, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x6e, 0x76, 0, 0, 0, 0, 1, 0x41, 0, 0, 0, 1, 0xff),
    );
    pair.pump();
    expect(ofType(pair.serverEvents, 'channel-request').at(-1)?.request).toEqual({ type: 'env', name: 'A', value: '\uFFFD' });
    expect(ch).toBe(0);
  });
});

describe('data fast path', () => {
  it('agrees with the general decoder and refuses inconsistent lengths', async () => {
    const { WireError } = await import('../../src/wire/index.js');
    const pair = new ConnectionPair();
    openSession(pair);
    const sch = serverChannel(pair);
    const good = encodeConnectionMessage({ type: 'channel-data', recipientChannel: sch, data: Uint8Array.of(7, 8, 9) });
    expect(pair.server.handle(good)).toEqual([{ type: 'data', channel: sch, data: Uint8Array.of(7, 8, 9) }]);
    expect(() => pair.server.handle(good.subarray(0, good.length - 1))).toThrow(WireError);
    expect(() => pair.server.handle(Uint8Array.of(...good, 0))).toThrow(WireError);
    expect(() => pair.server.handle(good.subarray(0, 8))).toThrow(WireError);
  });
});

describe('channel data through sinkData', () => {
  it('hands out the header and a view of the data, and the peer decodes their concatenation', () => {
    const parts: { header: Uint8Array; data: Uint8Array }[] = [];
    const pair = new ConnectionPair({ sinkData: (header, data) => parts.push({ header, data }) }, { maxPacket: 1000 });
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    const data = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff);
    expect(pair.client.send(ch, data)).toBe(2500);
    pair.client.sendExtended(ch, Uint8Array.of(1, 2), 1);
    // split to the peer's maximum packet, each part a view of the caller's bytes (no copy yet)
    expect(parts.map((p) => p.data.length)).toEqual([1000, 1000, 500, 2]);
    expect(parts[1]?.data.buffer).toBe(data.buffer);
    for (const p of parts) pair.toServer.push(Buffer.concat([p.header, p.data]));
    pair.pump();
    const got = ofType(pair.serverEvents, 'data').map((e) => Buffer.from(e.data));
    expect(Buffer.concat(got)).toEqual(Buffer.from(data));
    const ext = ofType(pair.serverEvents, 'extended-data');
    expect(ext.map((e) => [e.channel, e.dataType, Array.from(e.data)])).toEqual([[sch, 1, [1, 2]]]);
  });
});

describe('benign races', () => {
  it('eof() after the channel closed is a no-op; send() on a closed channel is a caller error', () => {
    const pair = new ConnectionPair();
    const ch = openSession(pair);
    const sch = serverChannel(pair);
    pair.server.close(sch);
    pair.pump();
    expect(ofType(pair.clientEvents, 'close')).toHaveLength(1);
    const before = pair.toServer.length;
    pair.client.eof(ch);
    pair.client.close(ch);
    pair.client.consumed(ch, 0);
    expect(pair.client.sendRequest(ch, { type: 'exit-status', status: 0 }, false)).toBe(false);
    expect(pair.toServer.length).toBe(before);
    expect(pair.client.remoteWindow(ch)).toBe(0);
    expect(() => pair.client.send(ch, Uint8Array.of(1))).toThrow(ChannelStateError);
  });
});
