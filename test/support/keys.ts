/**
 * Keys and certificates made by the real ssh-keygen, for interop tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './process.js';

export type KeyType = 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export interface GeneratedKey {
  /** Path of the unencrypted openssh-key-v1 private key (mode 0600). */
  readonly privatePath: string;
  /** Path of the .pub file. */
  readonly publicPath: string;
  /** The public key line ("ssh-ed25519 AAAA... comment"). */
  readonly publicLine: string;
  /** The private key file's text. */
  readonly privatePem: string;
}

function typeArgs(type: KeyType): string[] {
  const [t, bits] = type.split('-') as [string, string | undefined];
  return bits === undefined ? ['-t', t] : ['-t', t, '-b', bits];
}

/** `ssh-keygen -t <type> -N '' -f <dir>/<name>`; pass a passphrase to make an encrypted key. */
export async function generateKey(
  dir: string,
  name: string,
  type: KeyType,
  opts: { passphrase?: string; comment?: string; keygen?: string } = {},
): Promise<GeneratedKey> {
  const privatePath = join(dir, name);
  const r = await run(opts.keygen ?? 'ssh-keygen', [
    ...typeArgs(type),
    '-q',
    '-N',
    opts.passphrase ?? '',
    '-C',
    opts.comment ?? `${name}@gatehouse-test`,
    '-f',
    privatePath,
  ]);
  if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  const publicPath = `${privatePath}.pub`;
  return {
    privatePath,
    publicPath,
    publicLine: readFileSync(publicPath, 'utf8').trim(),
    privatePem: readFileSync(privatePath, 'utf8'),
  };
}

export interface CertOptions {
  /** -I key identity. */
  readonly identity: string;
  /** -n principals. */
  readonly principals?: readonly string[];
  /** -h: a host certificate. */
  readonly host?: boolean;
  /** -V validity interval, e.g. '-5m:+1h' or 'always:forever'. */
  readonly validity?: string;
  /** -O options, e.g. 'force-command=/bin/true', 'source-address=127.0.0.1/32', 'clear'. */
  readonly options?: readonly string[];
  /** -z serial. */
  readonly serial?: number;
  /** -t signature algorithm for RSA CAs (e.g. rsa-sha2-512). */
  readonly signatureAlgorithm?: string;
}

/**
 * `ssh-keygen -s ca -I id [-h] [-n principals] [-V validity] [-O opt]... key.pub`; returns the
 * certificate line (written beside the key as <key>-cert.pub, where ssh picks it up).
 */
export async function signCertificate(caPrivatePath: string, publicPath: string, opts: CertOptions): Promise<string> {
  const args = ['-q', '-s', caPrivatePath, '-I', opts.identity];
  if (opts.host === true) args.push('-h');
  if (opts.principals !== undefined) args.push('-n', opts.principals.join(','));
  if (opts.validity !== undefined) args.push('-V', opts.validity);
  if (opts.serial !== undefined) args.push('-z', String(opts.serial));
  if (opts.signatureAlgorithm !== undefined) args.push('-t', opts.signatureAlgorithm);
  for (const o of opts.options ?? []) args.push('-O', o);
  args.push(publicPath);
  const r = await run('ssh-keygen', args);
  if (r.code !== 0) throw new Error(`ssh-keygen -s failed: ${r.stderr}`);
  const certPath = publicPath.replace(/\.pub$/, '-cert.pub');
  return readFileSync(certPath, 'utf8').trim();
}

/** SHA256 fingerprint as ssh-keygen prints it ("SHA256:..."), for assertions. */
export async function fingerprint(publicPath: string): Promise<string> {
  const r = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicPath]);
  const m = /SHA256:[A-Za-z0-9+/]+/.exec(r.stdout);
  if (m === null) throw new Error(`ssh-keygen -l failed: ${r.stderr}`);
  return m[0];
}
