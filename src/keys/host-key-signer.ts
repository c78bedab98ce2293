/**
 * The transport's HostKeySigner over a PrivateKey, optionally with an OpenSSH host certificate:
 * the -cert-v01@openssh.com algorithms come first and send the certificate as K_S (RFC 4253
 * §8; PROTOCOL.certkeys), the plain ones send the bare key.
 */
import type { HostKeySigner } from '../transport/host-key.js';
import { KeyFormatError } from './errors.js';
import { CERT_SUFFIX, type CertificatePublicKey, isCertificateKey } from './key-types.js';
import type { PrivateKey } from './private-key-core.js';
import { encodePublicKeyBlob, parsePublicKeyBlob } from './public-key.js';
import { type SignatureOptions, baseSignatureAlgorithm, plainSignatureAlgorithms } from './signature.js';

export function createHostKeySigner(
  privateKey: PrivateKey,
  certificate?: Uint8Array | CertificatePublicKey,
  opts: SignatureOptions = {},
): HostKeySigner {
  const plainAlgs: string[] = plainSignatureAlgorithms(privateKey.publicKey, opts);
  let certBlob: Uint8Array | null = null;
  if (certificate !== undefined) {
    const cert = certificate instanceof Uint8Array ? parsePublicKeyBlob(certificate) : certificate;
    if (!isCertificateKey(cert)) throw new KeyFormatError('host certificate blob holds a plain key');
    if (cert.certificate.certType !== 'host') throw new KeyFormatError('a user certificate cannot serve as a host certificate');
    const certified = encodePublicKeyBlob(cert.certificate.key);
    const same = certified.length === privateKey.publicKeyBlob.length && certified.every((v, i) => v === privateKey.publicKeyBlob[i]);
    if (!same) throw new KeyFormatError('host certificate certifies a different key');
    certBlob = certificate instanceof Uint8Array ? certificate.slice() : encodePublicKeyBlob(cert);
  }
  const algorithms = certBlob === null ? plainAlgs : [...plainAlgs.map((a) => `${a}${CERT_SUFFIX}`), ...plainAlgs];
  const known = new Set(algorithms);
  const check = (algorithm: string): void => {
    if (!known.has(algorithm)) throw new KeyFormatError(`host key does not serve ${algorithm}`);
  };
  return {
    algorithms,
    publicKeyBlob(algorithm: string): Uint8Array {
      check(algorithm);
      return algorithm.endsWith(CERT_SUFFIX) && certBlob !== null ? certBlob : privateKey.publicKeyBlob;
    },
    sign(algorithm: string, data: Uint8Array): Uint8Array {
      check(algorithm);
      return privateKey.sign(baseSignatureAlgorithm(algorithm), data);
    },
  };
}
