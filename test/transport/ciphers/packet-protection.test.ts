import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleSymmetric, nodeSymmetric } from '../../../src/crypto/index.js';
import { createOpener, createSealer, findCipher } from '../../../src/transport/ciphers/index.js';
import { MAC_ERROR, PROTOCOL_ERROR, allCombos, keysFor, reasonOf, receive } from './helpers.js';

const combos = allCombos();

const BACKEND_PAIRS = [
  [nodeSymmetric, nodeSymmetric],
  [nobleSymmetric, nobleSymmetric],
  [nodeSymmetric, nobleSymmetric],
  [nobleSymmetric, nodeSymmetric],
] as const;

describe('sealer/opener round trips', () => {
  for (const c of combos) {
    for (const [sb, ob] of BACKEND_PAIRS) {
    it(`${c.label} (sealed by ${sb.name}, opened by ${ob.name})`, () => {
      const keys = keysFor(c);
      const sealer = createSealer(c.cipher.name, c.mac?.name ?? null, keys, sb);
      const opener = createOpener(c.cipher.name, c.mac?.name ?? null, keys, ob);
      expect(sealer.cipherName).toBe(c.cipher.name);
      expect(opener.macName).toBe(c.mac?.name ?? null);
      // start near 2^32 so the sequence number wraps (RFC 4253 §6.4)
      let seq = 0xfffffffd;
      const sizes = [0, 1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 35000];
      for (let i = 0; i < (sb === nodeSymmetric && ob === nodeSymmetric ? 25 : 5); i++) sizes.push(randomInt(0, 35001));
      for (const size of sizes) {
        const payload = new Uint8Array(randomBytes(size));
        const packet = sealer.seal(seq, payload);
        // padding rule: >= 4 bytes and aligned per mode; total size follows from the rules
        const align = Math.max(8, c.cipher.blockSize);
        const lengthCounts = c.cipher.kind === 'none' || (c.cipher.kind === 'stream' && c.mac?.etm === false);
        const packetLength = packet.length - 4 - opener.trailerLength;
        expect((packetLength + (lengthCounts ? 4 : 0)) % align).toBe(0);
        const pad = packetLength - 1 - size;
        expect(pad).toBeGreaterThanOrEqual(4);
        expect(pad).toBeLessThan(4 + align);
        const opened = receive(opener, seq, packet);
        expect(Buffer.from(opened).equals(Buffer.from(payload))).toBe(true);
        seq = (seq + 1) >>> 0;
      }
    });
    }
  }

  it('ciphertext does not contain the payload', () => {
    for (const c of allCombos(false)) {
      const keys = keysFor(c);
      const payload = new Uint8Array(200).fill(0x41);
      const packet = createSealer(c.cipher.name, c.mac?.name ?? null, keys).seal(0, payload);
      expect(Buffer.from(packet).includes(Buffer.from(payload.subarray(0, 32))), c.label).toBe(false);
    }
  });

  it('a wrong sequence number fails authentication', () => {
    for (const c of allCombos(false)) {
      // GCM authenticates its own invocation counter rather than the sequence number
      if (c.cipher.kind === 'aead') continue;
      const keys = keysFor(c);
      const packet = createSealer(c.cipher.name, c.mac?.name ?? null, keys).seal(7, randomBytes(50));
      const opener = createOpener(c.cipher.name, c.mac?.name ?? null, keys);
      expect(() => receive(opener, 8, packet), c.label).toThrow();
    }
  });

  it('GCM: a replayed packet fails because the invocation counter moved on', () => {
    const c = allCombos().find((x) => x.cipher.name === 'aes128-gcm@openssh.com');
    if (c === undefined) throw new Error('missing');
    const keys = keysFor(c);
    const sealer = createSealer(c.cipher.name, null, keys);
    const opener = createOpener(c.cipher.name, null, keys);
    const p = sealer.seal(0, randomBytes(10));
    receive(opener, 0, p);
    expect(reasonOf(catchErr(() => receive(opener, 1, p)))).toBe(MAC_ERROR);
  });

  it('rejects unknown names and a stream cipher without MAC', () => {
    const k = { encKey: new Uint8Array(32), iv: new Uint8Array(16), macKey: new Uint8Array(64) };
    expect(() => createSealer('aes128-cbc', null, k)).toThrow(/unknown cipher/);
    expect(() => createOpener('aes128-ctr', 'hmac-md5', k)).toThrow(/unknown MAC/);
    expect(() => createSealer('aes128-ctr', null, k)).toThrow(/needs a MAC/);
    expect(findCipher('chacha20-poly1305@openssh.com')?.keyLength).toBe(64);
  });
});

function catchErr(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('a flipped byte anywhere is detected', () => {
  for (const c of allCombos(false)) {
    for (const backend of [nodeSymmetric, nobleSymmetric]) {
    it(`${c.label} (${backend.name})`, () => {
      const keys = keysFor(c);
      const name = c.cipher.name;
      const mac = c.mac?.name ?? null;
      const payloadSizes = backend === nodeSymmetric ? [0, 37, randomInt(100, 2000)] : [0, 37];
      for (const size of payloadSizes) {
        const payload = randomBytes(size);
        const positions: number[] = [];
        // every byte of small packets; for the larger one: header, tail and a sample
        const probe = createSealer(name, mac, keys).seal(5, payload);
        if (probe.length <= 200) for (let i = 0; i < probe.length; i++) positions.push(i);
        else {
          for (let i = 0; i < 24; i++) positions.push(i, probe.length - 1 - i);
          for (let i = 0; i < 40; i++) positions.push(randomInt(0, probe.length));
        }
        for (const pos of positions) {
          // fresh pair per flip: CTR streams and GCM counters must start from the same state
          const packet = createSealer(name, mac, keys, backend).seal(5, payload);
          const opener = createOpener(name, mac, keys, backend);
          const bit = 1 << randomInt(0, 8);
          packet[pos] = (packet[pos] ?? 0) ^ bit;
          const err = catchErr(() => receive(opener, 5, packet));
          const r = reasonOf(err);
          const inLength = pos < opener.headerLength;
          if (inLength) expect([MAC_ERROR, PROTOCOL_ERROR, 'length'], `${c.label} pos ${pos}`).toContain(r);
          else expect(r, `${c.label} pos ${pos}`).toBe(MAC_ERROR);
        }
      }
    });
    }
  }
});

describe('openers under random input', () => {
  for (const backend of [nodeSymmetric, nobleSymmetric])
  it(`random and mutated bytes give typed errors only (${backend.name})`, () => {
    for (const c of allCombos()) {
      const keys = keysFor(c);
      const sealer = createSealer(c.cipher.name, c.mac?.name ?? null, keys, backend);
      for (let i = 0; i < 150; i++) {
        const opener = createOpener(c.cipher.name, c.mac?.name ?? null, keys, backend);
        let bytes: Uint8Array;
        if (i % 2 === 0) bytes = randomBytes(randomInt(0, 600));
        else {
          bytes = createSealer(c.cipher.name, c.mac?.name ?? null, keys, backend).seal(0, randomBytes(randomInt(0, 300)));
          for (let k = randomInt(1, 6); k > 0; k--) bytes[randomInt(0, bytes.length)] = randomInt(0, 256);
          if (i % 3 === 0) bytes = bytes.subarray(0, randomInt(0, bytes.length + 1));
        }
        const err = catchErr(() => receive(opener, 0, bytes));
        if (err !== undefined) expect(reasonOf(err), `${c.label}: ${String(err)}`).not.toBe('untyped');
        else expect(c.cipher.kind === 'none' || i % 2 === 1, c.label).toBe(true);
      }
      // open() with a packet of the wrong size is a typed error too
      const opener = createOpener(c.cipher.name, c.mac?.name ?? null, keys, backend);
      const good = sealer.seal(0, randomBytes(40));
      opener.packetLength(0, good.subarray(0, opener.headerLength));
      expect(reasonOf(catchErr(() => opener.open(0, good.subarray(0, good.length - 1))))).toBe(PROTOCOL_ERROR);
    }
  });
});
