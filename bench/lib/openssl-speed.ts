/**
 * Runs `openssl speed` for one primitive and returns MB/s at 16384-byte blocks, so the benchmark
 * can print our figures beside OpenSSL's measured in the same run on the same machine.
 */
import { spawnSync } from 'node:child_process';

/** MB/s (10^6 bytes per second) for 16384-byte blocks, or null when openssl is missing or fails. */
export function opensslSpeed(args: readonly string[]): number | null {
  const r = spawnSync('openssl', ['speed', '-seconds', '1', '-bytes', '16384', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error !== undefined || r.status !== 0) return null;
  return parseSpeed(r.stdout);
}

/**
 * Parses the table `openssl speed` prints: a header line "type  16384 bytes" and a result line
 * "<name>  <value>k", where values are in 1000s of bytes per second.
 */
export function parseSpeed(stdout: string): number | null {
  const lines = stdout.split('\n');
  const header = lines.findIndex((l) => /^type\s/.test(l));
  if (header < 0) return null;
  const columns = (lines[header] ?? '').trim().split(/\s{2,}|\t+/);
  const col = columns.findIndex((c) => c.startsWith('16384'));
  const row = lines[header + 1];
  if (col < 0 || row === undefined) return null;
  const values = row.trim().split(/\s+/).filter((v) => /^[\d.]+k$/.test(v));
  // the name may contain spaces; values are the last (columns - 1) fields
  const value = values[values.length - (columns.length - col)];
  if (value === undefined) return null;
  return Number.parseFloat(value) / 1000;
}

export function haveOpenssl(): boolean {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}
