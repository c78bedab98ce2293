/**
 * Version exchange (RFC 4253 §4.2): line length, pre-version lines (client side only), protocol
 * versions, and the machine's reaction to bad lines.
 */
import { describe, expect, it } from 'vitest';
import { Transport } from '../../src/transport/transport.js';
import type { TransportEvent } from '../../src/transport/transport-types.js';
import { MAX_BANNER_BYTES, VersionReader, versionLine } from '../../src/transport/version.js';
import { DisconnectReason, SshProtocolError } from '../../src/wire/index.js';
import { testHostKey, testVerifier } from './support/test-host-keys.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function reason(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof SshProtocolError) return e.reason;
    throw e;
  }
  return undefined;
}

describe('VersionReader', () => {
  it('reads a CRLF line and keeps the bytes after it', () => {
    const r = new VersionReader(false, 10).push(enc('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x00\x00\x0c'));
    expect(r).toEqual({ done: true, version: 'SSH-2.0-OpenSSH_9.2p1 Debian-2', rest: Uint8Array.of(0, 0, 0, 12) });
  });

  it('accepts bare LF, SSH-1.99, and a line split across many pushes', () => {
    expect(new VersionReader(false, 10).push(enc('SSH-1.99-Old\n'))).toMatchObject({ done: true, version: 'SSH-1.99-Old' });
    const v = new VersionReader(false, 10);
    const line = enc('SSH-2.0-dropbear_2022.83\r\n');
    for (let i = 0; i < line.length - 1; i++) expect(v.push(line.subarray(i, i + 1)).done).toBe(false);
    expect(v.push(line.subarray(line.length - 1))).toMatchObject({ done: true, version: 'SSH-2.0-dropbear_2022.83' });
  });

  it('client side skips banner lines before the version; server side refuses them', () => {
    const text = 'Welcome\r\nauthorized use only\r\nSSH-2.0-X\r\n';
    expect(new VersionReader(true, 10).push(enc(text))).toMatchObject({ done: true, version: 'SSH-2.0-X' });
    expect(reason(() => new VersionReader(false, 10).push(enc(text)))).toBe(DisconnectReason.PROTOCOL_ERROR);
  });

  it('bounds the count and bytes of banner lines', () => {
    expect(reason(() => new VersionReader(true, 3).push(enc('a\nb\nc\nd\nSSH-2.0-X\r\n')))).toBe(DisconnectReason.PROTOCOL_ERROR);
    const many = `${'x'.repeat(1000)}\n`.repeat(Math.ceil(MAX_BANNER_BYTES / 1000) + 1);
    expect(reason(() => new VersionReader(true, 100_000).push(enc(many)))).toBe(DisconnectReason.PROTOCOL_ERROR);
  });

  it('refuses a line over 255 bytes, with or without its LF', () => {
    expect(reason(() => new VersionReader(false, 10).push(enc(`SSH-2.0-${'a'.repeat(250)}\r\n`)))).toBe(DisconnectReason.PROTOCOL_ERROR);
    expect(reason(() => new VersionReader(false, 10).push(enc(`SSH-2.0-${'a'.repeat(300)}`)))).toBe(DisconnectReason.PROTOCOL_ERROR);
  });

  it('refuses other protocol versions, control bytes and an empty software version', () => {
    expect(reason(() => new VersionReader(false, 10).push(enc('SSH-1.5-Old\r\n')))).toBe(DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED);
    expect(reason(() => new VersionReader(false, 10).push(enc('SSH-2.0-a\x00b\r\n')))).toBe(DisconnectReason.PROTOCOL_ERROR);
    expect(reason(() => new VersionReader(false, 10).push(enc('SSH-2.0-\r\n')))).toBe(DisconnectReason.PROTOCOL_ERROR);
  });

  it('versionLine builds SSH-2.0-<software> CR LF and refuses spaces', () => {
    expect(new TextDecoder().decode(versionLine('Gatehouse_0.1').bytes)).toBe('SSH-2.0-Gatehouse_0.1\r\n');
    expect(() => versionLine('has space')).toThrow();
  });
});

describe('Transport version phase', () => {
  function server(): { t: Transport; events: TransportEvent[]; out: Uint8Array[] } {
    const events: TransportEvent[] = [];
    const out: Uint8Array[] = [];
    const t = new Transport({ write: (b) => out.push(b), event: (e) => events.push(e) }, { role: 'server', hostKeys: [testHostKey('ed25519')] });
    return { t, events, out };
  }

  it('start() writes the version line then KEXINIT', () => {
    const s = server();
    s.t.start();
    const text = Buffer.from(s.out[0] ?? []).toString('latin1');
    expect(text.startsWith('SSH-2.0-Gatehouse_0.1\r\n')).toBe(true);
    expect(text.charCodeAt(23 + 5)).toBe(20); // packet_length(4) padding_length(1) then SSH_MSG_KEXINIT
  });

  it('emits peer-version, and ends with a disconnect event (no packet) on a bad line', () => {
    const s = server();
    s.t.start();
    s.t.receive(enc('HTTP/1.1 GET /\r\n'));
    expect(s.events.map((e) => e.type)).toEqual(['disconnect']);
    expect(s.t.isClosed).toBe(true);
    expect(s.out).toHaveLength(1);
    const c = new Transport({ write: () => {}, event: () => {} }, { role: 'client', verifySignature: testVerifier() });
    expect(() => c.receive(enc('SSH-2.0-x\r\n'))).not.toThrow();
  });
});
