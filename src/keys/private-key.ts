/**
 * Private keys: the value type and signing (private-key-core.ts), openssh-key-v1 files
 * (openssh-key-v1.ts), and PKCS#8 / PEM reading (pkcs8-pem.ts), behind one parsePrivateKey.
 */
import { KeyFormatError, decodeWith } from './errors.js';
import { OPENSSH_PEM_LABEL, type ParseKeyOptions, parseOpenSshKeyBytes } from './openssh-key-v1.js';
import { decodePem } from './pem.js';
import { parsePemPrivateKey } from './pkcs8-pem.js';
import type { PrivateKey } from './private-key-core.js';

export { generatePrivateKey, privateKeyFromMaterial, type PrivateKey, type PrivateMaterial } from './private-key-core.js';
export {
  parseOpenSshPrivateKey,
  serializeOpenSshPrivateKey,
  type ParseKeyOptions,
  type SerializeKeyOptions,
} from './openssh-key-v1.js';

/**
 * Reads any supported private key file: OPENSSH PRIVATE KEY, PRIVATE KEY (PKCS#8), ENCRYPTED
 * PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY. Throws KeyPassphraseError when a passphrase is
 * needed or wrong, KeyFormatError for anything else.
 */
export function parsePrivateKey(text: string, passphrase?: string, opts: ParseKeyOptions = {}): PrivateKey {
  const pem = decodePem(text);
  if (pem.label === OPENSSH_PEM_LABEL) return parseOpenSshKeyBytes(pem.data, passphrase, opts);
  return decodeWith('PEM private key', () => {
    try {
      return parsePemPrivateKey(pem, passphrase);
    } catch (e) {
      if (e instanceof KeyFormatError) throw e;
      if (e instanceof Error) throw new KeyFormatError(`PEM private key: ${e.message}`, { cause: e });
      throw e;
    }
  });
}
