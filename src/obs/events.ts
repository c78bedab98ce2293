/**
 * Typed events the core emits (DESIGN principle 10). This file imports nothing: the protocol
 * core, gateway and policy depend only on these types and on an EventSink; logging and metrics
 * subscribe in obs/subscriber.ts.
 */

export type AuthResult = 'success' | 'failure' | 'partial';
export type Direction = 'client-to-target' | 'target-to-client';

export type GatehouseEvent =
  | {
      readonly type: 'connection.open';
      readonly connectionId: string;
      readonly remoteAddress: string;
      readonly remotePort: number;
      readonly localPort: number;
    }
  | { readonly type: 'connection.close'; readonly connectionId: string; readonly reason: string; readonly durationMs: number }
  | {
      readonly type: 'auth.attempt';
      readonly connectionId: string;
      readonly user: string;
      readonly method: string;
      readonly keyFingerprint?: string;
      /** The tag an OIDC device sign-in shows the user, so operators can match a report to the log. */
      readonly sessionTag?: string;
    }
  | {
      readonly type: 'auth.result';
      readonly connectionId: string;
      readonly user: string;
      readonly method: string;
      readonly result: AuthResult;
      readonly reason: string;
      readonly keyFingerprint?: string;
      readonly sessionTag?: string;
    }
  | {
      readonly type: 'policy.decision';
      readonly connectionId?: string;
      readonly sessionId?: string;
      readonly user: string;
      readonly target: string;
      readonly login: string;
      readonly action: string;
      readonly result: 'allow' | 'deny';
      readonly rule: string;
      readonly reason: string;
    }
  | {
      readonly type: 'channel.open';
      readonly sessionId: string;
      readonly channelId: number;
      readonly channelType: string;
      readonly detail?: string;
    }
  | {
      readonly type: 'channel.close';
      readonly sessionId: string;
      readonly channelId: number;
      readonly bytesToTarget: number;
      readonly bytesToClient: number;
      readonly exitStatus?: number;
    }
  | {
      readonly type: 'session.start';
      readonly sessionId: string;
      readonly connectionId: string;
      readonly user: string;
      readonly target: string;
      readonly login: string;
      readonly authMethod: string;
    }
  | {
      readonly type: 'session.end';
      readonly sessionId: string;
      readonly reason: string;
      readonly durationMs: number;
      readonly bytesToTarget: number;
      readonly bytesToClient: number;
    }
  | {
      /** A reloaded policy no longer allows a live session; it is being ended. */
      readonly type: 'session.revoked';
      readonly sessionId: string;
      readonly user: string;
      readonly rule: string;
      readonly reason: string;
    }
  | {
      readonly type: 'recording.failure';
      readonly sessionId: string;
      readonly error: string;
      readonly action: 'end' | 'continue';
    }
  | {
      readonly type: 'policy.reload';
      /** unchanged: the files were read again but say the same (no new version). */
      readonly result: 'applied' | 'rejected' | 'unchanged';
      readonly trigger: 'start' | 'watch' | 'sighup' | 'manual';
      readonly version: number;
      readonly files: readonly string[];
      readonly errors: readonly string[];
    }
  // The three below are high-frequency measurements: counted in metrics, logged at debug only.
  | { readonly type: 'relay.bytes'; readonly direction: Direction; readonly bytes: number }
  | { readonly type: 'target.dial'; readonly target: string; readonly seconds: number; readonly ok: boolean }
  | { readonly type: 'handshake.complete'; readonly seconds: number; readonly side: 'inbound' | 'outbound' }
  | {
      /** A browser sign-in at the admin listener (`gatehouse login`): certificate issued or refused. */
      readonly type: 'oidc.web-login';
      readonly result: 'issued' | 'refused';
      readonly reason: string;
      readonly user?: string;
      readonly groups?: readonly string[];
      /** Fingerprint of the key the certificate was issued for. */
      readonly keyFingerprint?: string;
      readonly validBefore?: string;
    };

export type GatehouseEventType = GatehouseEvent['type'];

export type EventSink = (event: GatehouseEvent) => void;

/** A sink that drops everything, for tests and tools that do not observe. */
export const discardEvents: EventSink = () => {};

/**
 * Fan-out of core events to subscribers. A subscriber that throws cannot break the emitter or
 * the other subscribers: observability must never take a session down.
 */
export class EventHub {
  private readonly subscribers = new Set<EventSink>();
  private readonly failures: ((error: unknown, event: GatehouseEvent) => void)[] = [];

  readonly emit: EventSink = (event) => {
    for (const s of this.subscribers) {
      try {
        s(event);
      } catch (e) {
        for (const f of this.failures) f(e, event);
      }
    }
  };

  subscribe(sink: EventSink): () => void {
    this.subscribers.add(sink);
    return () => this.subscribers.delete(sink);
  }

  onSubscriberError(cb: (error: unknown, event: GatehouseEvent) => void): void {
    this.failures.push(cb);
  }
}
