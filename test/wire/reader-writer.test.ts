import { describe, expect, it } from 'vitest';
import { SshReader, SshWriter, WireError, bytesEqual, concatBytes, encodeMpint } from '../../src/wire/index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s;
  };
}

describe('SshWriter/SshReader round trips', () => {
  it('round-trips every field type', () => {
    const w = new SshWriter(4);
    w.byte(7).bool(true).uint32(0xdeadbeef).uint64(0x0102030405060708n).string('héllo').nameList(['a', 'b-c@x']);
    w.mpint(0n).mpint(0x80n).mpint(-1n).mpint(-129n).mpintFromBytes(Uint8Array.of(0, 0, 0xff));
    const r = new SshReader(w.finish());
    expect(r.byte()).toBe(7);
    expect(r.bool()).toBe(true);
    expect(r.uint32()).toBe(0xdeadbeef);
    expect(r.uint64()).toBe(0x0102030405060708n);
    expect(r.string()).toBe('héllo');
    expect(r.nameList()).toEqual(['a', 'b-c@x']);
    expect(r.mpint()).toBe(0n);
    expect(r.mpint()).toBe(0x80n);
    expect(r.mpint()).toBe(-1n);
    expect(r.mpint()).toBe(-129n);
    expect(Array.from(r.mpintBytes())).toEqual([0xff]);
    r.expectEnd();
  });

  it('encodes mpints as RFC 4251 §5 examples', () => {
    const hex = (v: bigint) => Buffer.from(encodeMpint(v)).toString('hex');
    expect(hex(0n)).toBe('');
    expect(hex(0x9a378f9b2e332a7n)).toBe('09a378f9b2e332a7');
    expect(hex(0x80n)).toBe('0080');
    expect(hex(-0x1234n)).toBe('edcc');
    expect(hex(-0xdeadbeefn)).toBe('ff21524111');
  });

  it('round-trips random mpints', () => {
    const next = rng(42);
    for (let i = 0; i < 500; i++) {
      let v = 0n;
      const words = next() % 20;
      for (let j = 0; j < words; j++) v = (v << 32n) | BigInt(next());
      if (next() & 1) v = -v;
      const w = new SshWriter().mpint(v);
      expect(new SshReader(w.finish()).mpint()).toBe(v);
    }
  });
});

describe('SshReader bounds', () => {
  it('throws WireError past the end, never returns undefined', () => {
    expect(() => new SshReader(Uint8Array.of(0, 0, 0)).uint32()).toThrow(WireError);
    expect(() => new SshReader(Uint8Array.of(0, 0, 0, 9, 1)).bytes()).toThrow(WireError);
    expect(() => new SshReader(new Uint8Array(0)).byte()).toThrow(WireError);
  });

  it('enforces declared string limits before reading', () => {
    const w = new SshWriter().string(new Uint8Array(100));
    expect(() => new SshReader(w.finish()).bytes(50)).toThrow(/exceeds limit/);
  });

  it('rejects malformed name-lists, non-ASCII names and invalid UTF-8', () => {
    expect(() => new SshReader(new SshWriter().string('a,,b').finish()).nameList()).toThrow(WireError);
    expect(() => new SshReader(new SshWriter().string('a\x01').finish()).ascii()).toThrow(WireError);
    expect(() => new SshReader(new SshWriter().string(Uint8Array.of(0xc3)).finish()).string()).toThrow(WireError);
  });

  it('rejects non-minimal mpints and trailing bytes', () => {
    expect(() => new SshReader(new SshWriter().string(Uint8Array.of(0, 1)).finish()).mpint()).toThrow(WireError);
    const r = new SshReader(Uint8Array.of(1, 2));
    r.byte();
    expect(() => r.expectEnd()).toThrow(/trailing/);
  });

  it('only ever throws WireError on random input', () => {
    const next = rng(7);
    for (let i = 0; i < 3000; i++) {
      const buf = new Uint8Array(next() % 40);
      for (let j = 0; j < buf.length; j++) buf[j] = next() & 0xff;
      const r = new SshReader(buf);
      try {
        for (let k = 0; k < 6; k++) {
          switch (next() % 6) {
            case 0: r.uint32(); break;
            case 1: r.string(); break;
            case 2: r.nameList(); break;
            case 3: r.mpint(); break;
            case 4: r.uint64(); break;
            default: r.bytes(16);
          }
        }
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
      }
    }
  });
});

describe('byte helpers', () => {
  it('concatenates and compares', () => {
    const a = concatBytes(Uint8Array.of(1), Uint8Array.of(2, 3));
    expect(Array.from(a)).toEqual([1, 2, 3]);
    expect(bytesEqual(a, Uint8Array.of(1, 2, 3))).toBe(true);
    expect(bytesEqual(a, Uint8Array.of(1, 2, 4))).toBe(false);
    expect(bytesEqual(a, Uint8Array.of(1, 2))).toBe(false);
  });
});
