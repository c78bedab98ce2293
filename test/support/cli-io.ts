/**
 * In-memory io for the `gatehouse` commands under test: what they write, and an environment
 * with no admin token, admin URL or config file from the machine.
 */
import { Writable } from 'node:stream';

export interface CapturedCli {
  /** stdout as text (bytes written are decoded as UTF-8 too). */
  out: string;
  /** stdout bytes written as bytes (watch --raw), exactly. */
  bytes: number[];
  err: string;
}

export function captureCliIo(env: Record<string, string | undefined> = {}, signal?: AbortSignal) {
  const c: CapturedCli = { out: '', bytes: [], err: '' };
  return {
    c,
    io: {
      stdout: {
        write(d: string | Uint8Array) {
          if (typeof d === 'string') c.out += d;
          else {
            c.bytes.push(...d);
            c.out += Buffer.from(d).toString('utf8');
          }
          return true;
        },
      },
      stderr: { write: (d: string) => (c.err += d) },
      env: { GATEHOUSE_ADMIN_TOKEN: undefined, GATEHOUSE_ADMIN: undefined, GATEHOUSE_CONFIG: undefined, ...env },
      ...(signal ? { signal } : {}),
    },
  };
}

/** A pino destination that parses each JSON line into `logs` (a non-JSON line as { raw }). */
export function jsonLineSink(logs: Record<string, unknown>[]): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      partial += chunk.toString('utf8');
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          logs.push({ raw: line });
        }
      }
      cb();
    },
  });
}
