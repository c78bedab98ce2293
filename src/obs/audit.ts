/**
 * Audit log: one JSON line per typed event, with an "audit" field naming the event type so the
 * log can be filtered (`jq 'select(.audit)'`). Denials, failures and rejected reloads log at warn.
 */
import type { Logger } from 'pino';
import type { GatehouseEvent } from './events.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

export type Audit = (event: GatehouseEvent) => void;

export function createAudit(logger: Logger): Audit {
  const log = logger.child({ component: 'audit' });
  return (event) => {
    // relay.bytes arrives per packet: skip the work unless someone reads debug lines.
    if (event.type === 'relay.bytes' && !log.isLevelEnabled('debug')) return;
    const { level, message } = describeEvent(event);
    log[level]({ audit: event.type, ...event }, message);
  };
}

/** Log level and one-line summary of an event. */
export function describeEvent(e: GatehouseEvent): { level: Level; message: string } {
  switch (e.type) {
    case 'connection.open':
      return { level: 'info', message: `connection from ${e.remoteAddress}:${e.remotePort}` };
    case 'connection.close':
      return { level: 'info', message: `connection closed: ${e.reason}` };
    case 'auth.attempt':
      return { level: 'info', message: `${e.method} attempt for ${e.user}` };
    case 'auth.result':
      return {
        level: e.result === 'failure' ? 'warn' : 'info',
        message: `${e.method} ${e.result} for ${e.user}: ${e.reason}`,
      };
    case 'policy.decision':
      return {
        level: e.result === 'deny' ? 'warn' : 'info',
        message: `${e.result} ${e.user} ${e.action} on ${e.login}@${e.target} (${e.rule}): ${e.reason}`,
      };
    case 'channel.open':
      return { level: 'info', message: `channel ${e.channelId} ${e.channelType} opened` };
    case 'channel.close':
      return { level: 'info', message: `channel ${e.channelId} closed` };
    case 'session.start':
      return { level: 'info', message: `session ${e.sessionId}: ${e.user} as ${e.login}@${e.target}` };
    case 'session.end':
      return { level: 'info', message: `session ${e.sessionId} ended: ${e.reason}` };
    case 'session.revoked':
      return { level: 'warn', message: `session ${e.sessionId} of ${e.user} ended by policy: ${e.reason}` };
    case 'recording.failure':
      return { level: 'error', message: `recording of ${e.sessionId} failed (${e.action} session): ${e.error}` };
    case 'policy.reload':
      return describeReload(e.result, e.version, e.files.length, e.errors.length, e.trigger);
    case 'relay.bytes':
      return { level: 'debug', message: `${e.bytes} bytes ${e.direction}` };
    case 'target.dial':
      return { level: 'debug', message: `dialled ${e.target} in ${e.seconds}s (${e.ok ? 'ok' : 'failed'})` };
    case 'handshake.complete':
      return { level: 'debug', message: `${e.side} handshake in ${e.seconds}s` };
    case 'oidc.web-login':
      return e.result === 'issued'
        ? { level: 'info', message: `web sign-in: certificate for ${e.user ?? '?'} (${e.keyFingerprint ?? '?'}) until ${e.validBefore ?? '?'}` }
        : { level: 'warn', message: `web sign-in refused: ${e.reason}` };
    default: {
      const never: never = e;
      throw new Error(`unknown event ${String(never)}`);
    }
  }
}

function describeReload(
  result: 'applied' | 'rejected' | 'unchanged',
  version: number,
  files: number,
  errors: number,
  trigger: string,
): { level: Level; message: string } {
  switch (result) {
    case 'applied':
      return { level: 'info', message: `policy v${version} loaded from ${files} file(s) (${trigger})` };
    case 'unchanged':
      return { level: 'info', message: `policy unchanged, still v${version} (${trigger})` };
    case 'rejected':
      return { level: 'error', message: `policy edit rejected, keeping v${version}: ${errors} error(s)` };
    default: {
      const never: never = result;
      throw new Error(`unknown reload result ${String(never)}`);
    }
  }
}
