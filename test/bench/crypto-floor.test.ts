/**
 * The benchmark's arithmetic that needs no machine: the cryptographic floor per hop
 * (bench/lib/crypto-floor.ts) and the parser of `openssl speed` tables (bench/lib/openssl-speed.ts).
 */
import { describe, expect, it } from 'vitest';
import { floorSecondsPerGiB, hopWork, opensslCipherOf } from '../../bench/lib/crypto-floor.js';
import { parseSpeed } from '../../bench/lib/openssl-speed.js';

describe('hopWork', () => {
  it('counts the passes each hop makes over a relayed byte', () => {
    expect(hopWork('openssh -J', 'download')).toEqual({ clientCipher: 1, targetCipher: 0, sha256: 0 });
    expect(hopWork('openssh -J', 'upload')).toEqual({ clientCipher: 1, targetCipher: 0, sha256: 0 });
    expect(hopWork('gatehouse login@target', 'upload')).toEqual({ clientCipher: 1, targetCipher: 1, sha256: 0 });
    expect(hopWork('gatehouse -J', 'upload')).toEqual({ clientCipher: 2, targetCipher: 1, sha256: 0 });
  });

  it('adds SHA-256 of the recorded output on a download', () => {
    expect(hopWork('gatehouse login@target', 'download')).toEqual({ clientCipher: 1, targetCipher: 1, sha256: 1 });
    expect(hopWork('gatehouse -J', 'download')).toEqual({ clientCipher: 2, targetCipher: 1, sha256: 1 });
  });

  it('has no hop on the direct path', () => {
    expect(hopWork('direct', 'download')).toBeNull();
  });
});

describe('floorSecondsPerGiB', () => {
  it('adds GiB / rate over every pass', () => {
    // 1 GiB = 1073.741824 MB: at 1073.741824 MB/s one pass takes a second
    const gib = 1073.741824;
    const rates = { clientCipher: gib, targetCipher: gib / 2, sha256: gib / 4 };
    expect(floorSecondsPerGiB({ clientCipher: 2, targetCipher: 1, sha256: 1 }, rates)).toBeCloseTo(2 + 2 + 4, 10);
    expect(floorSecondsPerGiB({ clientCipher: 1, targetCipher: 0, sha256: 0 }, rates)).toBeCloseTo(1, 10);
  });

  it('needs only the rates of the primitives the hop uses', () => {
    expect(floorSecondsPerGiB({ clientCipher: 1, targetCipher: 0, sha256: 0 }, { clientCipher: 2147.483648, targetCipher: null, sha256: null })).toBeCloseTo(0.5, 10);
  });

  it('gives no floor when a rate it needs is missing or unusable', () => {
    const work = { clientCipher: 1, targetCipher: 1, sha256: 1 };
    expect(floorSecondsPerGiB(work, { clientCipher: 1000, targetCipher: 1000, sha256: null })).toBeNull();
    expect(floorSecondsPerGiB(work, { clientCipher: 0, targetCipher: 1000, sha256: 1000 })).toBeNull();
    expect(floorSecondsPerGiB(work, { clientCipher: Number.NaN, targetCipher: 1000, sha256: 1000 })).toBeNull();
    expect(floorSecondsPerGiB(work, { clientCipher: Number.POSITIVE_INFINITY, targetCipher: 1000, sha256: 1000 })).toBeNull();
  });
});

describe('opensslCipherOf', () => {
  it('names the EVP cipher behind each SSH AEAD', () => {
    expect(opensslCipherOf('aes128-gcm@openssh.com')).toBe('aes-128-gcm');
    expect(opensslCipherOf('aes256-gcm@openssh.com')).toBe('aes-256-gcm');
    expect(opensslCipherOf('chacha20-poly1305@openssh.com')).toBe('chacha20-poly1305');
    expect(opensslCipherOf('aes128-ctr')).toBeUndefined();
  });
});

describe('parseSpeed', () => {
  it('reads the 16384-byte column of an EVP cipher table', () => {
    const out = [
      'Doing AES-128-GCM for 1s on 16384 size blocks: 262000 AES-128-GCM\'s in 1.00s',
      'version: 3.0.19',
      'The \'numbers\' are in 1000s of bytes per second processed.',
      'type          16384 bytes',
      'AES-128-GCM   4292608.00k',
      '',
    ].join('\n');
    expect(parseSpeed(out)).toBeCloseTo(4292.608, 6);
  });

  it('reads a digest row and the right column of a wider table', () => {
    const out = ['type             16 bytes     64 bytes  16384 bytes', 'sha256          100.50k      400.25k  1723138.05k', ''].join('\n');
    expect(parseSpeed(out)).toBeCloseTo(1723.13805, 6);
  });

  it('gives null for output without a table', () => {
    expect(parseSpeed('')).toBeNull();
    expect(parseSpeed('Error: unknown cipher\n')).toBeNull();
    expect(parseSpeed('type          16384 bytes\n')).toBeNull();
  });
});
