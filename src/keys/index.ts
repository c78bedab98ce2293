/** The keys module: public keys, signatures, private keys, certificates, authorized_keys, known_hosts. */
export * from './errors.js';
export * from './public-key.js';
export * from './signature.js';
export * from './private-key.js';
export * from './host-key-signer.js';
export * from './certificate.js';
export type { CertificateFields } from './certificate-codec.js';
export * from './authorized-keys.js';
export * from './known-hosts.js';
export * from './address-match.js';
