// Mint JWTs for tests with node:crypto (RS256, ES256, EdDSA, HS256, or unsigned).
import { createHmac, type KeyObject, sign } from 'node:crypto';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key?: KeyObject | string): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const alg = header['alg'];
  let sig: Buffer;
  if (alg === 'none' || key === undefined) sig = Buffer.alloc(0);
  else if (typeof key === 'string') sig = createHmac(`sha${String(alg).slice(2)}`, key).update(input).digest();
  else if (alg === 'EdDSA') sig = sign(null, Buffer.from(input), key);
  else if (String(alg).startsWith('ES')) sig = sign(`sha${String(alg).slice(2)}`, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else sig = sign(`sha${String(alg).slice(2)}`, Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}
