/** PKCS#8, PKCS#1 and SEC1 PEM keys written by ssh-keygen -m PEM / -m PKCS8, plain and encrypted. */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyPassphraseError } from '../../src/keys/errors.js';
import { parsePrivateKey } from '../../src/keys/private-key.js';
import { formatPublicKeyLine } from '../../src/keys/public-key.js';
import { type KeyType, generateKey, makeTempDir, removeTempDir, requireBinaries, run } from '../support/index.js';

const req = requireBinaries('ssh-keygen');
const TYPES: KeyType[] = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'];

function keyLineOnly(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

describe.skipIf(req.skip)(`PEM and PKCS#8 keys from ssh-keygen${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  for (const t of TYPES) {
    for (const fmt of ['PEM', 'PKCS8'] as const) {
      it(`${t}: ssh-keygen -m ${fmt} keys (plain and encrypted) match ssh-keygen -y`, async () => {
        const base = await generateKey(dir, `m-${fmt}-${t}`, t);
        for (const pass of ['', 'pem pass']) {
          const copy = join(dir, `m-${fmt}-${t}-${pass === '' ? 'plain' : 'enc'}`);
          copyFileSync(base.privatePath, copy);
          const conv = await run('ssh-keygen', ['-p', '-q', '-N', pass, '-m', fmt, '-f', copy]);
          expect(conv.code, conv.stderr).toBe(0);
          const text = readFileSync(copy, 'utf8');
          // ssh-keygen keeps ed25519 in openssh-key-v1; the others must really be PEM / PKCS#8 here
          if (t !== 'ed25519') expect(text).not.toContain('OPENSSH');
          const y = await run('ssh-keygen', ['-y', '-P', pass, '-f', copy]);
          const k = parsePrivateKey(text, pass === '' ? undefined : pass);
          expect(formatPublicKeyLine(k.publicKeyBlob)).toBe(keyLineOnly(y.stdout));
          if (pass !== '' && !text.includes('OPENSSH')) expect(() => parsePrivateKey(text, 'wrong pass')).toThrow(KeyPassphraseError);
        }
      });
    }
  }
});
