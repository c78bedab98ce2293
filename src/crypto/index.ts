/**
 * The crypto backends. `defaultBackend` picks, per operation, the implementation that
 * bench/crypto.ts measured fastest on Node 20 (node:crypto wins every public-key operation and
 * every hash by a wide margin; ML-KEM is noble in both because node:crypto lacks it).
 */
import type { CryptoBackend } from './backend.js';
import { nodeBackend } from './node-backend.js';

export type * from './backend.js';
export { nodeBackend } from './node-backend.js';

export const defaultBackend: CryptoBackend = { ...nodeBackend, name: 'default' };
