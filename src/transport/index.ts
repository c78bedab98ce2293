/**
 * The SSH transport layer (RFC 4253): a sans-IO machine plus the algorithm registry,
 * negotiation and key exchange methods it is built from.
 */
export * from './algorithms.js';
export * from './ext-info.js';
export type * from './host-key.js';
export { findKexMethod, KEX_METHODS, type KexMethod, type KexClientState } from './kex-methods.js';
export { type KexInit, encodeKexInit, parseKexInit, negotiate, isGuessRight } from './kexinit.js';
export { DEFAULT_SERVER_SIG_ALGS } from './kex-round.js';
export type * from './packet-protection.js';
export * from './transport-types.js';
export { Transport } from './transport.js';
export { VersionReader, versionLine } from './version.js';
