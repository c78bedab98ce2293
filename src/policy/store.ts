/**
 * The live policy: loaded from the policies directory, reloaded when a file changes (fs.watch,
 * debounced) and on SIGHUP. Reloads are atomic: a broken edit keeps the last good policy and
 * reports why; a good one is handed to every subscriber so live sessions can be re-evaluated.
 */
import { type FSWatcher, watch } from 'node:fs';
import { discardEvents, type EventSink } from '../obs/events.js';
import { formatIssue, type PolicyIssue, PolicyLoadError } from './errors.js';
import { checkPolicyPath } from './loader.js';
import type { Policy } from './types.js';

export type ReloadTrigger = 'start' | 'watch' | 'sighup' | 'manual';

export type ReloadOutcome =
  | { readonly applied: true; readonly policy: Policy }
  | { readonly applied: false; readonly unchanged: true; readonly issues: readonly [] }
  | { readonly applied: false; readonly unchanged: false; readonly issues: readonly PolicyIssue[] };

export interface PolicyStoreOptions {
  /** Quiet time after the last file event before reloading (editors write in bursts). */
  readonly debounceMs?: number;
  readonly events?: EventSink;
}

type ReloadListener = (policy: Policy, previous: Policy) => void;
type ErrorListener = (issues: readonly PolicyIssue[], trigger: ReloadTrigger) => void;

export class PolicyStore {
  private policy: Policy;
  private version = 1;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly reloadListeners = new Set<ReloadListener>();
  private readonly errorListeners = new Set<ErrorListener>();
  private readonly events: EventSink;
  private readonly debounceMs: number;

  /** Loads the policy; throws PolicyLoadError when the initial policy is broken. */
  constructor(
    readonly path: string,
    options: PolicyStoreOptions = {},
  ) {
    this.events = options.events ?? discardEvents;
    this.debounceMs = options.debounceMs ?? 200;
    const first = checkPolicyPath(path, this.version);
    this.events({
      type: 'policy.reload',
      result: first.policy ? 'applied' : 'rejected',
      trigger: 'start',
      version: this.version,
      files: first.policy?.files ?? [],
      errors: first.issues.map(formatIssue),
    });
    if (!first.policy) throw new PolicyLoadError(first.issues);
    this.policy = first.policy;
  }

  get current(): Policy {
    return this.policy;
  }

  /** Re-reads the directory now. The policy changes only if the whole directory is valid. */
  reload(trigger: ReloadTrigger = 'manual'): ReloadOutcome {
    const next = checkPolicyPath(this.path, this.version + 1);
    if (!next.policy) {
      this.events({
        type: 'policy.reload',
        result: 'rejected',
        trigger,
        version: this.policy.version,
        files: this.policy.files,
        errors: next.issues.map(formatIssue),
      });
      for (const l of this.errorListeners) l(next.issues, trigger);
      return { applied: false, unchanged: false, issues: next.issues };
    }
    if (next.policy.digest === this.policy.digest) {
      // fs.watch fires for touches, editor temp files and ConfigMap symlink swaps: only a real
      // change makes a new version (and re-evaluates live sessions).
      if (trigger !== 'watch') {
        this.events({ type: 'policy.reload', result: 'unchanged', trigger, version: this.version, files: this.policy.files, errors: [] });
      }
      return { applied: false, unchanged: true, issues: [] };
    }
    const previous = this.policy;
    this.version += 1;
    this.policy = next.policy;
    this.events({ type: 'policy.reload', result: 'applied', trigger, version: this.version, files: next.policy.files, errors: [] });
    for (const l of this.reloadListeners) l(next.policy, previous);
    return { applied: true, policy: next.policy };
  }

  /** What the server calls from its SIGHUP handler. */
  reloadFromSignal(): ReloadOutcome {
    return this.reload('sighup');
  }

  /** Starts watching the policy path for changes (idempotent). */
  watch(): void {
    if (this.watcher) return;
    // Any change in the directory schedules a reload, not only *.yaml names: Kubernetes
    // ConfigMaps update by swapping a "..data" symlink. Unchanged content is a no-op.
    this.watcher = watch(this.path, { persistent: false }, () => this.schedule());
    this.watcher.on('error', () => {
      // The directory vanished or became unreadable: keep the current policy and say so.
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reload('watch');
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Subscribes to applied reloads; returns the unsubscribe function. */
  onReload(cb: ReloadListener): () => void {
    this.reloadListeners.add(cb);
    return () => this.reloadListeners.delete(cb);
  }

  /** Subscribes to rejected reloads (the old policy stays in force). */
  onReloadError(cb: ErrorListener): () => void {
    this.errorListeners.add(cb);
    return () => this.errorListeners.delete(cb);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
