/**
 * The pino logger factory: JSON lines, ISO timestamps, and every object, binding and message
 * passed through the secret scrubber before it is written. The gateway prints nothing secret.
 */
import { format } from 'node:util';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { LogLevel } from './log-levels.js';
import { scrub, scrubString } from './redact.js';

export { LOG_LEVELS, type LogLevel } from './log-levels.js';

export interface LoggerConfig {
  readonly level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to inspect output. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

export type { Logger };

const chindings = pino.symbols.chindingsSym;

/**
 * The arguments of a log call with secrets masked. Format arguments are interpolated here,
 * so a secret passed as "%s" is masked in the final message, not only in its parts.
 */
function scrubArgs(args: readonly unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (first instanceof Error && (rest.length === 0 || typeof rest[0] !== 'string')) {
    // log.error(err): pino would use err.message as msg unscrubbed.
    return [{ err: first }, scrubString(first.message)];
  }
  if (typeof first === 'string') return [scrubString(format(first, ...rest))];
  const [msg, ...params] = rest;
  if (typeof msg === 'string') return [first, scrubString(format(msg, ...params))];
  return [first, ...rest];
}

function scrubChildBindings(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const current = holder[chindings];
  if (typeof current !== 'string' || current.length < 2) return;
  const parsed: unknown = JSON.parse(`{${current.slice(1)}}`);
  holder[chindings] = `,${JSON.stringify(scrub(parsed)).slice(1, -1)}`;
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    name: config.name ?? 'gatehouse',
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { pid: process.pid },
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => scrub(bindings) as Record<string, unknown>,
      log: (object) => scrub(object) as Record<string, unknown>,
    },
    serializers: {
      // The formatter scrubs fields of the error object; this keeps message and stack too.
      err: (e: unknown) => scrub(e),
      error: (e: unknown) => scrub(e),
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, scrubArgs(args) as Parameters<typeof method>);
      },
    },
    // pino resets the bindings formatter for children, so scrub child bindings here.
    onChild: (child) => scrubChildBindings(child),
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}
