/**
 * The crypto backends. `defaultBackend` / `defaultSymmetric` pick, per operation, the
 * implementation bench/crypto.ts measured fastest on Node 20: node:crypto wins every public-key
 * operation, hash and AES/ChaCha20 path by 10-40x; Poly1305 is the WebAssembly one (node:crypto
 * has none); ML-KEM-768 is mlkem-node.ts (node:crypto has no ML-KEM, but its SHA-3 makes that
 * implementation about 3x faster than @noble/post-quantum's, which the noble backend keeps).
 */
import type { CryptoBackend } from './backend.js';
import { nodeBackend } from './node-backend.js';
import { nodeSymmetric } from './node-symmetric.js';
import type { SymmetricBackend } from './symmetric.js';

export type * from './backend.js';
export type * from './symmetric.js';
export { MLKEM768_CT_BYTES, MLKEM768_EK_BYTES } from './mlkem-node.js';
export { nodeBackend } from './node-backend.js';
export { nobleBackend } from './noble-backend.js';
export { nodeSymmetric } from './node-symmetric.js';
export { nobleSymmetric } from './noble-symmetric.js';
export { poly1305Wasm } from './poly1305-wasm.js';

export const defaultBackend: CryptoBackend = { ...nodeBackend, name: 'default' };
export const defaultSymmetric: SymmetricBackend = { ...nodeSymmetric, name: 'default' };
