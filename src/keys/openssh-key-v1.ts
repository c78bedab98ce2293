/**
 * The openssh-key-v1 private key format (OpenSSH PROTOCOL.key): read and write, unencrypted or
 * encrypted with bcrypt_pbkdf + aes256-ctr (also aes128/192-ctr on read), as ssh-keygen does.
 */
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { defaultBackend } from '../crypto/index.js';
import { SshReader, SshWriter } from '../wire/index.js';
import { DEFAULT_MAX_BCRYPT_ROUNDS, bcryptPbkdf } from './bcrypt-pbkdf.js';
import { KeyFormatError, KeyPassphraseError, decodeWith } from './errors.js';
import { CURVE_OF, type PlainKeyType, isPlainKeyType } from './key-types.js';
import { decodePem, encodePem } from './pem.js';
import { type PrivateKey, type PrivateMaterial, privateKeyFromMaterial } from './private-key-core.js';
import { MAX_KEY_BLOB } from './public-key.js';

const MAGIC = new TextEncoder().encode('openssh-key-v1\0');
export const OPENSSH_PEM_LABEL = 'OPENSSH PRIVATE KEY';

const CIPHERS: Readonly<Record<string, { keyLen: number; ivLen: number; tagLen: number }>> = {
  'aes128-ctr': { keyLen: 16, ivLen: 16, tagLen: 0 },
  'aes192-ctr': { keyLen: 24, ivLen: 16, tagLen: 0 },
  'aes256-ctr': { keyLen: 32, ivLen: 16, tagLen: 0 },
  // ssh-keygen -Z aes256-gcm@openssh.com: 12-byte nonce, no AAD, the tag follows the section string
  'aes256-gcm@openssh.com': { keyLen: 32, ivLen: 12, tagLen: 16 },
};

export interface ParseKeyOptions {
  /** Highest bcrypt_pbkdf round count accepted (default 1024; ssh-keygen writes 16). */
  readonly maxKdfRounds?: number;
}

function readMaterial(r: SshReader, type: PlainKeyType): PrivateMaterial {
  switch (type) {
    case 'ssh-ed25519': {
      const pub = r.bytes(32);
      const priv = r.bytes(64);
      if (pub.length !== 32 || priv.length !== 64) throw new KeyFormatError('ed25519 private key fields have wrong sizes');
      const tail = priv.subarray(32);
      if (!tail.every((v, i) => v === pub[i])) throw new KeyFormatError('ed25519 private key halves disagree');
      return { type, seed: priv.slice(0, 32) };
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const c = CURVE_OF[type];
      if (r.ascii(32) !== c.name) throw new KeyFormatError(`${type} private key names another curve`);
      r.bytes(1 + 2 * c.fieldBytes);
      return { type, scalar: r.mpintBytes(c.fieldBytes + 1).slice() };
    }
    case 'ssh-rsa': {
      const n = r.mpintBytes(2049).slice();
      const e = r.mpintBytes(16).slice();
      const d = r.mpintBytes(2049).slice();
      const iqmp = r.mpintBytes(2049).slice();
      const p = r.mpintBytes(2049).slice();
      const q = r.mpintBytes(2049).slice();
      return { type, rsa: { n, e, d, p, q, iqmp } };
    }
    default: {
      const never: never = type;
      throw new KeyFormatError(String(never));
    }
  }
}

function writeMaterial(w: SshWriter, key: PrivateKey): void {
  const m = key.material;
  switch (m.type) {
    case 'ssh-ed25519': {
      const pub = key.publicKey.type === 'ssh-ed25519' ? key.publicKey.key : new Uint8Array(32);
      const priv = new Uint8Array(64);
      priv.set(m.seed);
      priv.set(pub, 32);
      w.string(pub).string(priv);
      return;
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const point = 'point' in key.publicKey ? key.publicKey.point : new Uint8Array(0);
      w.string(CURVE_OF[m.type].name).string(point).mpintFromBytes(m.scalar);
      return;
    }
    case 'ssh-rsa':
      w.mpintFromBytes(m.rsa.n).mpintFromBytes(m.rsa.e).mpintFromBytes(m.rsa.d);
      w.mpintFromBytes(m.rsa.iqmp).mpintFromBytes(m.rsa.p).mpintFromBytes(m.rsa.q);
      return;
    default: {
      const never: never = m;
      throw new KeyFormatError(String(never));
    }
  }
}

/** Parses the binary openssh-key-v1 structure (the PEM body). */
export function parseOpenSshKeyBytes(data: Uint8Array, passphrase?: string, opts: ParseKeyOptions = {}): PrivateKey {
  return decodeWith('openssh-key-v1', () => {
    if (data.length < MAGIC.length || !MAGIC.every((v, i) => v === data[i])) throw new KeyFormatError('not an openssh-key-v1 key');
    const r = new SshReader(data, MAGIC.length);
    const cipherName = r.ascii(64);
    const kdfName = r.ascii(64);
    const kdfOptions = r.bytes(1024);
    const count = r.uint32();
    if (count !== 1) throw new KeyFormatError(`key file holds ${count} keys; exactly one is supported`);
    const publicBlob = r.bytes(MAX_KEY_BLOB);
    let section = r.bytes(64 * 1024);
    const tag = r.raw(CIPHERS[cipherName]?.tagLen ?? 0);
    r.expectEnd('openssh-key-v1 key');

    let blockSize = 8;
    const encrypted = cipherName !== 'none';
    if (!encrypted) {
      if (kdfName !== 'none' || kdfOptions.length !== 0) throw new KeyFormatError('unencrypted key with a KDF');
    } else {
      const cipher = CIPHERS[cipherName];
      if (cipher === undefined) throw new KeyFormatError(`unsupported private key cipher ${cipherName}`);
      if (kdfName !== 'bcrypt') throw new KeyFormatError(`unsupported private key KDF ${kdfName}`);
      if (passphrase === undefined) throw new KeyPassphraseError('the key is encrypted: a passphrase is needed');
      const kr = new SshReader(kdfOptions);
      const salt = kr.bytes(1024);
      const rounds = kr.uint32();
      kr.expectEnd('bcrypt KDF options');
      blockSize = 16;
      if (section.length % blockSize !== 0) throw new KeyFormatError('encrypted section is not a whole number of blocks');
      const km = bcryptPbkdf(new TextEncoder().encode(passphrase), salt, rounds, cipher.keyLen + cipher.ivLen, opts.maxKdfRounds ?? DEFAULT_MAX_BCRYPT_ROUNDS);
      const key = km.subarray(0, cipher.keyLen);
      const iv = km.subarray(cipher.keyLen);
      if (cipher.tagLen === 0) section = ctr(key, iv).decrypt(section);
      else {
        const sealed = new Uint8Array(section.length + tag.length);
        sealed.set(section);
        sealed.set(tag, section.length);
        try {
          section = gcm(key, iv).decrypt(sealed);
        } catch {
          throw new KeyPassphraseError('wrong passphrase (authentication tag mismatch)');
        }
      }
    }
    if (section.length % blockSize !== 0) throw new KeyFormatError('private section is not padded to the block size');
    const pr = new SshReader(section);
    const check1 = pr.uint32();
    const check2 = pr.uint32();
    if (check1 !== check2) {
      if (encrypted) throw new KeyPassphraseError('wrong passphrase (check bytes differ)');
      throw new KeyFormatError('corrupt private key (check bytes differ)');
    }
    const type = pr.ascii(64);
    if (!isPlainKeyType(type)) throw new KeyFormatError(`unsupported private key type ${type}`);
    const material = readMaterial(pr, type);
    const comment = pr.string(4096);
    const pad = pr.rest();
    if (pad.length >= blockSize || !pad.every((v, i) => v === i + 1)) throw new KeyFormatError('bad private section padding');
    return privateKeyFromMaterial(material, comment, publicBlob);
  });
}

/** Parses "-----BEGIN OPENSSH PRIVATE KEY-----" text. Throws KeyPassphraseError for a missing or wrong passphrase. */
export function parseOpenSshPrivateKey(text: string, passphrase?: string, opts: ParseKeyOptions = {}): PrivateKey {
  const pem = decodePem(text);
  if (pem.label !== OPENSSH_PEM_LABEL) throw new KeyFormatError(`expected ${OPENSSH_PEM_LABEL}, found ${pem.label}`);
  return parseOpenSshKeyBytes(pem.data, passphrase, opts);
}

export interface SerializeKeyOptions {
  /** Encrypt with bcrypt_pbkdf + aes256-ctr when given and non-empty. */
  readonly passphrase?: string;
  /** Defaults to the key's own comment. */
  readonly comment?: string;
  /** bcrypt_pbkdf rounds (ssh-keygen's default is 16). */
  readonly rounds?: number;
}

/** Writes a key as openssh-key-v1 PEM text (70-column lines, as ssh-keygen writes). */
export function serializeOpenSshPrivateKey(key: PrivateKey, opts: SerializeKeyOptions = {}): string {
  const encrypted = opts.passphrase !== undefined && opts.passphrase !== '';
  const blockSize = encrypted ? 16 : 8;
  const check = defaultBackend.randomBytes(4);
  const pw = new SshWriter(1024).raw(check).raw(check).string(key.type);
  writeMaterial(pw, key);
  pw.string(opts.comment ?? key.comment);
  for (let i = 1; pw.length % blockSize !== 0; i++) pw.byte(i);
  let section: Uint8Array = pw.finish();

  let cipherName = 'none';
  let kdfName = 'none';
  let kdfOptions: Uint8Array = new Uint8Array(0);
  if (encrypted) {
    const rounds = opts.rounds ?? 16;
    const salt = defaultBackend.randomBytes(16);
    cipherName = 'aes256-ctr';
    kdfName = 'bcrypt';
    kdfOptions = new SshWriter(32).string(salt).uint32(rounds).finish();
    const km = bcryptPbkdf(new TextEncoder().encode(opts.passphrase), salt, rounds, 48, Math.max(rounds, DEFAULT_MAX_BCRYPT_ROUNDS));
    section = ctr(km.subarray(0, 32), km.subarray(32)).encrypt(section);
  }
  const w = new SshWriter(section.length + 512)
    .raw(MAGIC)
    .string(cipherName)
    .string(kdfName)
    .string(kdfOptions)
    .uint32(1)
    .string(key.publicKeyBlob)
    .string(section);
  return encodePem(OPENSSH_PEM_LABEL, w.finish(), 70);
}
