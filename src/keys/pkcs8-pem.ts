/**
 * Reading PKCS#8 (RFC 5208/5958), PKCS#1 RSA (RFC 8017 A.1.2) and SEC1 EC (RFC 5915) private
 * keys, including legacy encrypted PEM (RFC 1421 DEK-Info, OpenSSL's EVP_BytesToKey with MD5)
 * and encrypted PKCS#8 with PBES2 (RFC 8018: PBKDF2 + AES-CBC), as `ssh-keygen -m PEM/PKCS8` writes.
 */
import { cbc } from '@noble/ciphers/aes.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { DerReader, OID, toHex } from './der.js';
import { KeyFormatError, KeyPassphraseError } from './errors.js';
import type { EcdsaKeyType } from './key-types.js';
import type { PemBlock } from './pem.js';
import { type PrivateKey, type PrivateMaterial, privateKeyFromMaterial } from './private-key-core.js';

const CURVE_OIDS: Readonly<Record<string, EcdsaKeyType>> = {
  [OID.prime256v1]: 'ecdsa-sha2-nistp256',
  [OID.secp384r1]: 'ecdsa-sha2-nistp384',
  [OID.secp521r1]: 'ecdsa-sha2-nistp521',
};

/** PBKDF2 iteration bound (OpenSSL writes 2048). */
export const MAX_PBKDF2_ITERATIONS = 1_000_000;

function rsaFromPkcs1(der: Uint8Array): PrivateMaterial {
  const s = new DerReader(der).sequence();
  if (s.smallInteger() !== 0) throw new KeyFormatError('PKCS#1: unsupported version (multi-prime)');
  const n = s.unsignedInteger();
  const e = s.unsignedInteger();
  const d = s.unsignedInteger();
  const p = s.unsignedInteger();
  const q = s.unsignedInteger();
  s.unsignedInteger(); // d mod (p-1)
  s.unsignedInteger(); // d mod (q-1)
  const iqmp = s.unsignedInteger();
  return { type: 'ssh-rsa', rsa: { n, e, d, p, q, iqmp } };
}

function ecFromSec1(der: Uint8Array, curveOid: string | null): { material: PrivateMaterial; publicPoint: Uint8Array | null } {
  const s = new DerReader(der).sequence();
  if (s.smallInteger() !== 1) throw new KeyFormatError('SEC1: unsupported EC private key version');
  const scalar = s.octetString();
  const params = s.optionalContext(0);
  const inner = params === null ? null : params.oid();
  const pubCtx = s.optionalContext(1);
  const publicPoint = pubCtx === null ? null : pubCtx.bitString();
  const oid = inner ?? curveOid;
  if (oid === null) throw new KeyFormatError('EC private key names no curve');
  if (curveOid !== null && inner !== null && curveOid !== inner) throw new KeyFormatError('EC private key names two curves');
  const type = CURVE_OIDS[oid];
  if (type === undefined) throw new KeyFormatError(`unsupported EC curve (OID ${oid})`);
  return { material: { type, scalar: scalar.slice() }, publicPoint };
}

function fromPkcs8(der: Uint8Array, comment: string): PrivateKey {
  const s = new DerReader(der).sequence();
  const version = s.smallInteger();
  if (version > 1) throw new KeyFormatError(`PKCS#8: unsupported version ${version}`);
  const alg = s.sequence();
  const oid = alg.oid();
  const inner = s.octetString();
  switch (oid) {
    case OID.rsaEncryption:
      return privateKeyFromMaterial(rsaFromPkcs1(inner), comment);
    case OID.ecPublicKey: {
      const curve = alg.oid();
      const ec = ecFromSec1(inner, curve);
      return withPointCheck(ec.material, ec.publicPoint, comment);
    }
    case OID.ed25519: {
      const seed = new DerReader(inner).octetString();
      if (seed.length !== 32) throw new KeyFormatError('PKCS#8 Ed25519 key must hold a 32-byte seed');
      return privateKeyFromMaterial({ type: 'ssh-ed25519', seed: seed.slice() }, comment);
    }
    default:
      throw new KeyFormatError(`PKCS#8: unsupported key algorithm (OID ${oid})`);
  }
}

function withPointCheck(material: PrivateMaterial, point: Uint8Array | null, comment: string): PrivateKey {
  const key = privateKeyFromMaterial(material, comment);
  if (point !== null && 'point' in key.publicKey && toHex(point) !== toHex(key.publicKey.point)) {
    throw new KeyFormatError('EC private key does not match its public point');
  }
  return key;
}

/** OpenSSL's EVP_BytesToKey(MD5, count 1): the legacy PEM encryption key. */
function bytesToKey(pass: Uint8Array, salt: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let prev = new Uint8Array(0);
  for (let o = 0; o < len; ) {
    const input = new Uint8Array(prev.length + pass.length + salt.length);
    input.set(prev);
    input.set(pass, prev.length);
    input.set(salt, prev.length + pass.length);
    prev = md5(input);
    out.set(prev.subarray(0, Math.min(prev.length, len - o)), o);
    o += prev.length;
  }
  return out;
}

function decryptLegacyPem(pem: PemBlock, passphrase: string | undefined): Uint8Array {
  const dek = pem.headers.get('DEK-Info') ?? '';
  const m = /^AES-(128|192|256)-CBC,([0-9A-Fa-f]{32})$/.exec(dek);
  if (m === null) throw new KeyFormatError(`unsupported PEM encryption ${JSON.stringify(dek)}`);
  if (passphrase === undefined) throw new KeyPassphraseError('the key is encrypted: a passphrase is needed');
  const iv = Uint8Array.from((m[2] ?? '').match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  const key = bytesToKey(new TextEncoder().encode(passphrase), iv.subarray(0, 8), Number(m[1]) / 8);
  try {
    return cbc(key, iv).decrypt(pem.data);
  } catch {
    throw new KeyPassphraseError('wrong passphrase (bad padding)');
  }
}

function decryptPkcs8(der: Uint8Array, passphrase: string | undefined): Uint8Array {
  const s = new DerReader(der).sequence();
  const alg = s.sequence();
  if (alg.oid() !== OID.pbes2) throw new KeyFormatError('encrypted PKCS#8: only PBES2 is supported');
  const params = alg.sequence();
  const kdf = params.sequence();
  if (kdf.oid() !== OID.pbkdf2) throw new KeyFormatError('encrypted PKCS#8: only PBKDF2 is supported');
  const kp = kdf.sequence();
  const salt = kp.octetString();
  const iterations = kp.smallInteger();
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) throw new KeyFormatError(`PBKDF2 iteration count ${iterations} out of range`);
  if (!kp.done && kp.peekTag() === 0x02) kp.skip(); // optional keyLength
  let prf = OID.hmacWithSHA1 as string;
  if (!kp.done) prf = kp.sequence().oid();
  const hash = prf === OID.hmacWithSHA256 ? sha256 : prf === OID.hmacWithSHA512 ? sha512 : prf === OID.hmacWithSHA1 ? sha1 : null;
  if (hash === null) throw new KeyFormatError('encrypted PKCS#8: unsupported PBKDF2 PRF');
  const enc = params.sequence();
  const encOid = enc.oid();
  const keyLen = encOid === OID.aes256cbc ? 32 : encOid === OID.aes192cbc ? 24 : encOid === OID.aes128cbc ? 16 : 0;
  if (keyLen === 0) throw new KeyFormatError('encrypted PKCS#8: unsupported cipher');
  const iv = enc.octetString();
  if (iv.length !== 16) throw new KeyFormatError('encrypted PKCS#8: bad IV');
  const data = s.octetString();
  if (passphrase === undefined) throw new KeyPassphraseError('the key is encrypted: a passphrase is needed');
  const key = pbkdf2(hash, new TextEncoder().encode(passphrase), salt, { c: iterations, dkLen: keyLen });
  try {
    return cbc(key, iv).decrypt(data);
  } catch {
    throw new KeyPassphraseError('wrong passphrase (bad padding)');
  }
}

/** Reads a PEM block holding a PKCS#8, PKCS#1 or SEC1 key (encrypted or not). */
export function parsePemPrivateKey(pem: PemBlock, passphrase?: string, comment = ''): PrivateKey {
  const encrypted = (pem.headers.get('Proc-Type') ?? '').includes('ENCRYPTED');
  const data = encrypted ? decryptLegacyPem(pem, passphrase) : pem.data;
  // garbage from a wrong passphrase that survived the padding check still fails to parse
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (encrypted && e instanceof KeyFormatError && !(e instanceof KeyPassphraseError)) {
        throw new KeyPassphraseError(`wrong passphrase (${e.message})`);
      }
      throw e;
    }
  };
  switch (pem.label) {
    case 'PRIVATE KEY':
      return fromPkcs8(data, comment);
    case 'ENCRYPTED PRIVATE KEY': {
      const plain = decryptPkcs8(data, passphrase);
      try {
        return fromPkcs8(plain, comment);
      } catch (e) {
        if (e instanceof KeyFormatError) throw new KeyPassphraseError(`wrong passphrase (${e.message})`);
        throw e;
      }
    }
    case 'RSA PRIVATE KEY':
      return guard(() => privateKeyFromMaterial(rsaFromPkcs1(data), comment));
    case 'EC PRIVATE KEY':
      return guard(() => {
        const ec = ecFromSec1(data, null);
        return withPointCheck(ec.material, ec.publicPoint, comment);
      });
    default:
      throw new KeyFormatError(`unsupported PEM key type ${pem.label}`);
  }
}
