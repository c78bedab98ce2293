import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { describe, expect, it } from 'vitest';
import { nobleSymmetric } from '../../src/crypto/noble-symmetric.js';
import { createPoly1305Wasm, type Poly1305Variant, poly1305Wasm, poly1305WasmVariant } from '../../src/crypto/poly1305-wasm.js';
import { repoRoot } from '../support/binaries.js';
import { hex, IETF_TEXT, JABBERWOCKY, POLY1305_VECTORS, toHex } from './vectors/rfc8439.js';

/** Whether this engine compiles WebAssembly SIMD: a module of one v128.const. */
function engineHasSimd(): boolean {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  // (module (func (result v128) v128.const i64x2 0 0))
  const bytes = Uint8Array.from([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  return wasm.validate(bytes);
}

describe('Poly1305 in WebAssembly', () => {
  it('messages have the lengths RFC 8439 gives', () => {
    expect(IETF_TEXT.length).toBe(375);
    expect(JABBERWOCKY.length).toBe(127);
  });

  it('uses the SIMD module exactly when the engine compiles WebAssembly SIMD', () => {
    expect(poly1305WasmVariant).toBe(engineHasSimd() ? 'simd' : 'scalar');
    const key = randomBytes(32);
    const msg = randomBytes(1000);
    expect(toHex(poly1305Wasm(key, msg))).toBe(toHex(createPoly1305Wasm(poly1305WasmVariant)(key, msg)));
  });

  it.skipIf(process.arch !== 'x64')('falls back to the scalar module where the engine has no WebAssembly SIMD (V8 without SSE4.1), with the same tags', () => {
    const url = pathToFileURL(join(repoRoot(), 'dist/src/crypto/poly1305-wasm.js')).href;
    const key = randomBytes(32);
    const msg = randomBytes(5000);
    const script = `import { poly1305Wasm, poly1305WasmVariant } from ${JSON.stringify(url)};
      const tag = poly1305Wasm(Buffer.from(${JSON.stringify(key.toString('hex'))}, 'hex'), Buffer.from(${JSON.stringify(msg.toString('hex'))}, 'hex'));
      process.stdout.write(poly1305WasmVariant + ' ' + Buffer.from(tag).toString('hex'));`;
    const r = spawnSync(process.execPath, ['--no-enable-sse4-1', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`scalar ${toHex(noblePoly1305(msg, key))}`);
  });

  it('the generated module bytes are those of poly1305.wat (npm run build:wasm was run after editing it)', () => {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'scripts/build-poly1305-wasm.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

const VARIANTS: readonly Poly1305Variant[] = engineHasSimd() ? ['simd', 'scalar'] : ['scalar'];

describe.each(VARIANTS)('Poly1305 in WebAssembly, the %s module', (variant) => {
  const tagOf = createPoly1305Wasm(variant);

  for (const v of POLY1305_VECTORS) {
    it(`RFC 8439 ${v.name}`, () => {
      expect(toHex(tagOf(hex(v.key), v.msg))).toBe(v.tag);
      // the reference agrees, so a wrong vector cannot pass unnoticed
      expect(toHex(noblePoly1305(v.msg, hex(v.key)))).toBe(v.tag);
    });
  }

  it('agrees with noble on random keys and messages of every length 0..300 and large ones', () => {
    for (let len = 0; len <= 300; len++) {
      const key = randomBytes(32);
      const msg = randomBytes(len);
      expect(toHex(tagOf(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
    // the SIMD module takes four blocks a step from 256 bytes on, then the scalar code the rest
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(32);
      const msg = randomBytes(randomInt(256, 4096));
      expect(toHex(tagOf(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
    for (const len of [32768, 32768 + 5 + 16, 65536 + 7, 300_000]) {
      const key = randomBytes(32);
      const msg = randomBytes(len);
      expect(toHex(tagOf(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
  });

  it('agrees with noble on limb-boundary inputs (all-ones keys and messages)', () => {
    for (let i = 0; i < 200; i++) {
      const key = new Uint8Array(32).fill(i % 2 ? 0xff : 0);
      key.set(randomBytes(randomInt(0, 33)).map((b) => b | 0xf0));
      const msg = new Uint8Array(i < 100 ? randomInt(0, 100) : randomInt(256, 1200)).fill(0xff);
      expect(toHex(tagOf(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
  });

  it('a message in two parts has the tag of their concatenation (the wasm and the noble backend)', () => {
    for (const [a, b] of [
      [0, 0],
      [4, 0],
      [4, 33],
      [5, 70000],
      [0, 17],
    ] as const) {
      const key = randomBytes(32);
      const first = randomBytes(a);
      const second = randomBytes(b);
      const whole = toHex(noblePoly1305(Buffer.concat([first, second]), key));
      expect(toHex(tagOf(key, first, second))).toBe(whole);
      expect(toHex(nobleSymmetric.poly1305(key, first, second))).toBe(whole);
    }
  });

  it('rejects a key of the wrong length', () => {
    expect(() => tagOf(new Uint8Array(31), new Uint8Array(1))).toThrow(RangeError);
  });
});
