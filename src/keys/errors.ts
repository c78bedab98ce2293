import { WireError } from '../wire/index.js';

/** A key, certificate or key file that cannot be parsed or is out of the accepted bounds. */
export class KeyFormatError extends Error {
  override readonly name: string = 'KeyFormatError';
}

/** An encrypted private key whose passphrase is missing or wrong (the check-ints differ). */
export class KeyPassphraseError extends KeyFormatError {
  override readonly name = 'KeyPassphraseError';
}

/** Runs a decoder and turns the wire reader's errors into KeyFormatError with `what` as context. */
export function decodeWith<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KeyFormatError) throw e;
    if (e instanceof WireError || e instanceof RangeError) throw new KeyFormatError(`${what}: ${e.message}`, { cause: e });
    throw e;
  }
}
