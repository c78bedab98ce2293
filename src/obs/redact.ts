/**
 * Scrubbing of secrets from anything that is about to be logged. Two nets: field names that
 * hold secrets (password, token, private key, client secret, authorization...) lose their
 * value whatever it is, and string values that look like secrets (PEM / OpenSSH private keys,
 * bearer credentials, JWTs) are masked wherever they appear, messages included.
 */

export const REDACTED = '[REDACTED]';

const SECRET_FIELD =
  /pass(word|phrase|wd)?$|secret|token|private.?key|privkey|authorization|cookie|credential|api.?key|^otp$|user_?code|device_?code|code_?verifier|^nonce$/i;

const SECRET_VALUES: readonly RegExp[] = [
  // PEM and OpenSSH private keys, whole block (or the start of one cut short).
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  // "openssh-key-v1\0" in base64, as in a private key pasted without its armour.
  /b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=\s]*/g,
  // HTTP credentials.
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // JSON Web Tokens (ID tokens, access tokens).
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
];

const MAX_DEPTH = 10;
const MAX_ITEMS = 1000;

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

export function scrubString(s: string): string {
  let out = s;
  for (const re of SECRET_VALUES) out = out.replace(re, REDACTED);
  return out;
}

/** A copy of `value` with secrets masked. Bounded in depth and width; cycles are cut. */
export function scrub(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  if (Array.isArray(value)) {
    return value.slice(0, MAX_ITEMS).map((v) => scrub(v, depth + 1, seen));
  }
  const out: Record<string, unknown> = {};
  const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
  let n = 0;
  for (const [k, v] of Object.entries(source)) {
    if (n++ >= MAX_ITEMS) break;
    out[k] = isSecretField(k) && v !== undefined && v !== null && v !== '' ? REDACTED : scrub(v, depth + 1, seen);
  }
  return out;
}

function errorFields(e: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: e.name, message: e.message };
  if (e.stack) fields['stack'] = e.stack;
  for (const [k, v] of Object.entries(e)) fields[k] = v;
  return fields;
}
