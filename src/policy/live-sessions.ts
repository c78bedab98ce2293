/**
 * Re-evaluation of live sessions when the policy changes: offboarding takes effect now, not
 * at the next login. The gateway registers every Authorization a live session holds; after
 * each applied reload every one is evaluated again, and those the new policy denies are
 * revoked through the callback the gateway gave (which ends the session with a message).
 */
import { discardEvents, type EventSink } from '../obs/events.js';
import { Authorization, type Denial, reevaluate } from './evaluate.js';
import type { Policy } from './types.js';

export type RevokeCallback = (denial: Denial, previous: Authorization) => void;

interface Entry {
  readonly sessionId: string;
  auth: Authorization;
  readonly onRevoke: RevokeCallback;
}

/** Anything that announces applied reloads (PolicyStore does). */
export interface ReloadSource {
  onReload(cb: (policy: Policy) => void): () => void;
}

export class LiveAuthorizations {
  private readonly entries = new Set<Entry>();
  private readonly unsubscribe: () => void;

  constructor(
    source: ReloadSource,
    private readonly events: EventSink = discardEvents,
  ) {
    this.unsubscribe = source.onReload((policy) => this.reevaluateAll(policy));
  }

  /**
   * Tracks one authorization of a live session; returns the function to call when the session
   * (or the channel it covers) ends.
   */
  register(sessionId: string, auth: Authorization, onRevoke: RevokeCallback): () => void {
    if (!Authorization.isAuthorization(auth)) throw new TypeError('only a policy Authorization can be registered');
    const entry: Entry = { sessionId, auth, onRevoke };
    this.entries.add(entry);
    return () => this.entries.delete(entry);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Evaluates every registered authorization against `policy`; returns how many were revoked. */
  reevaluateAll(policy: Policy): number {
    let revoked = 0;
    for (const entry of [...this.entries]) {
      const decision = reevaluate(policy, entry.auth);
      if (decision.allowed) {
        // Keep the current rule's settings (recording, env) for what the session does next.
        entry.auth = decision;
        continue;
      }
      this.entries.delete(entry);
      revoked++;
      this.events({
        type: 'session.revoked',
        sessionId: entry.sessionId,
        user: entry.auth.identity.user,
        rule: decision.rule,
        reason: decision.reason,
      });
      try {
        entry.onRevoke(decision, entry.auth);
      } catch {
        // One session failing to end must not keep the others alive.
      }
    }
    return revoked;
  }

  /** The current authorization of every registration for a session (after reloads). */
  authorizationsOf(sessionId: string): Authorization[] {
    return [...this.entries].filter((e) => e.sessionId === sessionId).map((e) => e.auth);
  }

  close(): void {
    this.unsubscribe();
    this.entries.clear();
  }
}
