/**
 * Poly1305 (RFC 8439 §2.5) in WebAssembly: node:crypto has no raw Poly1305 and noble's pure-JS
 * one would make chacha20-poly1305@openssh.com the slowest cipher. The module is compiled
 * synchronously once at import (generated from wasm/poly1305.wat): the one with WebAssembly
 * SIMD, or, where the engine cannot compile that (V8 on an x64 CPU without SSE4.1), the scalar
 * one, which computes the same tags.
 */
import { POLY1305_SCALAR_WASM_BASE64, POLY1305_SIMD_WASM_BASE64 } from './wasm/poly1305-bytes.js';

const KEY_OFFSET = 0;
const TAG_OFFSET = 32;
const MSG_OFFSET = 64;
const PAGE = 65536;

// The project compiles without DOM types, and @types/node 20 does not declare WebAssembly:
// describe the few members used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
interface Poly1305Exports {
  readonly memory: WasmMemory;
  readonly mac: (len: number) => void;
}

function isMemory(v: unknown): v is WasmMemory {
  return typeof v === 'object' && v !== null && 'buffer' in v && v.buffer instanceof ArrayBuffer && 'grow' in v;
}

function isMac(v: unknown): v is (len: number) => void {
  return typeof v === 'function';
}

/** Which module computes the tags: with WebAssembly SIMD, or the scalar fallback. */
export type Poly1305Variant = 'simd' | 'scalar';

/** One-shot Poly1305 tag of `message` (followed by `more`, when given) under the 32-byte one-time `key`. */
export type Poly1305Fn = (key: Uint8Array, message: Uint8Array, more?: Uint8Array) => Uint8Array;

function instantiate(variant: Poly1305Variant): Poly1305Exports {
  const wasmApi = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
  const bytes = variant === 'simd' ? POLY1305_SIMD_WASM_BASE64 : POLY1305_SCALAR_WASM_BASE64;
  const module = new wasmApi.Module(Buffer.from(bytes, 'base64'));
  const { memory, mac } = new wasmApi.Instance(module, {}).exports;
  if (!isMemory(memory) || !isMac(mac)) throw new Error('poly1305 WebAssembly module lacks its exports');
  return { memory, mac };
}

/** A one-shot Poly1305 function on its own instance of the `variant` module. */
export function createPoly1305Wasm(variant: Poly1305Variant): Poly1305Fn {
  const wasm = instantiate(variant);
  let heap = new Uint8Array(wasm.memory.buffer);
  return (key, message, more) => {
    if (key.length !== 32) throw new RangeError('poly1305 key must be 32 bytes');
    const length = message.length + (more?.length ?? 0);
    const need = MSG_OFFSET + length;
    if (need > heap.length) {
      wasm.memory.grow(Math.ceil((need - heap.length) / PAGE));
      heap = new Uint8Array(wasm.memory.buffer);
    }
    heap.set(key, KEY_OFFSET);
    heap.set(message, MSG_OFFSET);
    if (more !== undefined) heap.set(more, MSG_OFFSET + message.length);
    wasm.mac(length);
    const tag = heap.slice(TAG_OFFSET, TAG_OFFSET + 16);
    // the one-time key must not outlive the call
    heap.fill(0, KEY_OFFSET, KEY_OFFSET + 32);
    return tag;
  };
}

function chooseVariant(): { variant: Poly1305Variant; fn: Poly1305Fn } {
  try {
    return { variant: 'simd', fn: createPoly1305Wasm('simd') };
  } catch {
    // an engine without WebAssembly SIMD rejects the module when it compiles it
    return { variant: 'scalar', fn: createPoly1305Wasm('scalar') };
  }
}

const chosen = chooseVariant();

/** The module this process uses. */
export const poly1305WasmVariant: Poly1305Variant = chosen.variant;

/** Poly1305 on the module this process uses. */
export const poly1305Wasm: Poly1305Fn = chosen.fn;
