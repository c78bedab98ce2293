/**
 * Poly1305 (RFC 8439 §2.5) for chacha20-poly1305@openssh.com. node:crypto exposes no raw
 * Poly1305, so this picks the fastest available one-shot implementation.
 */
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';

export type Poly1305 = (key: Uint8Array, message: Uint8Array) => Uint8Array;

export const nobleP1305: Poly1305 = (key, message) => noblePoly1305(message, key);

export let poly1305: Poly1305 = nobleP1305;

/** Lets the fast implementation install itself once it is ready. */
export function setPoly1305(impl: Poly1305): void {
  poly1305 = impl;
}
