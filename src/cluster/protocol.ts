/**
 * The messages between the primary and its gateway workers (node:cluster IPC, JSON). Every
 * message carries `t` starting with "gh:" so other users of the channel (prom-client, Node's
 * own NODE_* messages) are told apart. Both sides parse what they receive: a message of the
 * wrong shape is reported and ignored, never trusted.
 */
import type { GatehouseConfig } from '../config.js';
import type { SessionSummary } from '../gateway/session-routes.js';
import type { ReloadTrigger } from '../policy/store.js';
import type { LiveMessage } from '../recording/index.js';

/** Requests the primary sends and the worker answers with one `gh:reply` of the same `req`. */
export type WorkerRequest =
  | { readonly t: 'gh:list'; readonly req: number }
  | { readonly t: 'gh:get'; readonly req: number; readonly id: string }
  | { readonly t: 'gh:kill'; readonly req: number; readonly id: string; readonly message: string }
  | { readonly t: 'gh:metrics'; readonly req: number }
  /** Starts a live follow; the reply says whether the session exists, then gh:watch-msg flow. */
  | { readonly t: 'gh:watch'; readonly req: number; readonly id: string; readonly credit: number };

export type ToWorker =
  | { readonly t: 'gh:init'; readonly config: GatehouseConfig; readonly worker: number }
  | WorkerRequest
  /** The primary wrote `n` more messages of the follow: the worker may send `n` more. */
  | { readonly t: 'gh:watch-credit'; readonly watch: number; readonly n: number }
  | { readonly t: 'gh:watch-close'; readonly watch: number }
  /** The primary reloaded (or was told to); the worker re-reads the same directory. */
  | { readonly t: 'gh:policy-reload'; readonly trigger: ReloadTrigger; readonly digest: string }
  /** Drain: end every session (recordings sealed), close the listener, exit. */
  | { readonly t: 'gh:shutdown' };

export type FromWorker =
  /** Listening for messages: the primary answers with gh:init. */
  | { readonly t: 'gh:hello' }
  | { readonly t: 'gh:ready'; readonly address: { readonly host: string; readonly port: number } }
  | { readonly t: 'gh:failed'; readonly error: string; readonly policyIssues?: readonly string[] }
  | { readonly t: 'gh:reply'; readonly req: number; readonly body: unknown }
  | { readonly t: 'gh:session-open'; readonly id: string; readonly dir: string }
  | { readonly t: 'gh:session-end'; readonly id: string }
  | { readonly t: 'gh:watch-msg'; readonly watch: number; readonly message: LiveMessage }
  | { readonly t: 'gh:watch-end'; readonly watch: number };

const MAX_STRING = 4096;
const TRIGGERS: readonly ReloadTrigger[] = ['start', 'watch', 'sighup', 'manual'];
const LIVE_TYPES = new Set(['channel-open', 'event', 'channel-close', 'end', 'dropped']);

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, max = MAX_STRING): v is string {
  return typeof v === 'string' && v.length <= max;
}

function int(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A message from the primary, or undefined when it is not one of ours. */
export function parseToWorker(raw: unknown): ToWorker | undefined {
  if (!isRec(raw) || typeof raw['t'] !== 'string') return undefined;
  const m = raw;
  switch (m['t']) {
    case 'gh:init':
      return isRec(m['config']) && int(m['worker']) ? (m as unknown as ToWorker) : undefined;
    case 'gh:list':
    case 'gh:metrics':
      return int(m['req']) ? { t: m['t'], req: m['req'] } : undefined;
    case 'gh:get':
      return int(m['req']) && str(m['id']) ? { t: 'gh:get', req: m['req'], id: m['id'] } : undefined;
    case 'gh:kill':
      return int(m['req']) && str(m['id']) && str(m['message']) ? { t: 'gh:kill', req: m['req'], id: m['id'], message: m['message'] } : undefined;
    case 'gh:watch':
      return int(m['req']) && str(m['id']) && int(m['credit']) ? { t: 'gh:watch', req: m['req'], id: m['id'], credit: m['credit'] } : undefined;
    case 'gh:watch-credit':
      return int(m['watch']) && int(m['n']) ? { t: 'gh:watch-credit', watch: m['watch'], n: m['n'] } : undefined;
    case 'gh:watch-close':
      return int(m['watch']) ? { t: 'gh:watch-close', watch: m['watch'] } : undefined;
    case 'gh:policy-reload': {
      const trigger = TRIGGERS.find((x) => x === m['trigger']);
      return trigger && str(m['digest']) ? { t: 'gh:policy-reload', trigger, digest: m['digest'] } : undefined;
    }
    case 'gh:shutdown':
      return { t: 'gh:shutdown' };
    default:
      return undefined;
  }
}

/** A message from a worker, or undefined when it is not one of ours. */
export function parseFromWorker(raw: unknown): FromWorker | undefined {
  if (!isRec(raw) || typeof raw['t'] !== 'string') return undefined;
  const m = raw;
  switch (m['t']) {
    case 'gh:hello':
      return { t: 'gh:hello' };
    case 'gh:ready': {
      const a = m['address'];
      return isRec(a) && str(a['host'], 256) && int(a['port']) && a['port'] <= 65535 ? { t: 'gh:ready', address: { host: a['host'], port: a['port'] } } : undefined;
    }
    case 'gh:failed': {
      if (!str(m['error'], 64 * 1024)) return undefined;
      const issues = m['policyIssues'];
      if (issues === undefined) return { t: 'gh:failed', error: m['error'] };
      return Array.isArray(issues) && issues.length <= 1000 && issues.every((i) => str(i)) ? { t: 'gh:failed', error: m['error'], policyIssues: issues } : undefined;
    }
    case 'gh:reply':
      return int(m['req']) && 'body' in m ? { t: 'gh:reply', req: m['req'], body: m['body'] } : undefined;
    case 'gh:session-open':
      return str(m['id']) && str(m['dir']) ? { t: 'gh:session-open', id: m['id'], dir: m['dir'] } : undefined;
    case 'gh:session-end':
      return str(m['id']) ? { t: 'gh:session-end', id: m['id'] } : undefined;
    case 'gh:watch-msg': {
      const msg = m['message'];
      return int(m['watch']) && isRec(msg) && typeof msg['type'] === 'string' && LIVE_TYPES.has(msg['type'])
        ? { t: 'gh:watch-msg', watch: m['watch'], message: msg as unknown as LiveMessage }
        : undefined;
    }
    case 'gh:watch-end':
      return int(m['watch']) ? { t: 'gh:watch-end', watch: m['watch'] } : undefined;
    default:
      return undefined;
  }
}

const SUMMARY_FIELDS = ['id', 'user', 'authMethod', 'target', 'login', 'client', 'startedAt', 'recording'] as const;

/** A session summary from a worker's reply, or undefined when malformed. */
export function parseSessionSummary(raw: unknown): SessionSummary | undefined {
  if (!isRec(raw)) return undefined;
  if (!SUMMARY_FIELDS.every((k) => str(raw[k]))) return undefined;
  if (raw['worker'] !== undefined && !int(raw['worker'])) return undefined;
  if (raw['pid'] !== undefined && !int(raw['pid'])) return undefined;
  const pick = (k: (typeof SUMMARY_FIELDS)[number]): string => String(raw[k]);
  return {
    id: pick('id'),
    user: pick('user'),
    authMethod: pick('authMethod'),
    target: pick('target'),
    login: pick('login'),
    client: pick('client'),
    startedAt: pick('startedAt'),
    recording: pick('recording'),
    ...(int(raw['worker']) ? { worker: raw['worker'] } : {}),
    ...(int(raw['pid']) ? { pid: raw['pid'] } : {}),
  };
}
