/** Two connection machines joined in memory; payloads are pumped explicitly. */
import {
  type ConnectionEvent,
  type ConnectionOptions,
  SshConnection,
} from '../../src/connection/index.js';

export class ConnectionPair {
  readonly client: SshConnection;
  readonly server: SshConnection;
  readonly toServer: Uint8Array[] = [];
  readonly toClient: Uint8Array[] = [];
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];
  /** Called for each server event (e.g. to accept opens); returns nothing. */
  onServerEvent: (e: ConnectionEvent, pair: ConnectionPair) => void = () => {};
  onClientEvent: (e: ConnectionEvent, pair: ConnectionPair) => void = () => {};

  constructor(client: Partial<ConnectionOptions> = {}, server: Partial<ConnectionOptions> = {}) {
    this.client = new SshConnection({ role: 'client', sink: (p) => this.toServer.push(p), ...client });
    this.server = new SshConnection({ role: 'server', sink: (p) => this.toClient.push(p), ...server });
  }

  /** Delivers everything in flight, both ways, until quiet. Returns the number of payloads moved. */
  pump(): number {
    let moved = 0;
    for (;;) {
      const s = this.toServer.shift();
      if (s !== undefined) {
        moved++;
        for (const e of this.server.handle(s)) {
          this.serverEvents.push(e);
          this.onServerEvent(e, this);
        }
        continue;
      }
      const c = this.toClient.shift();
      if (c !== undefined) {
        moved++;
        for (const e of this.client.handle(c)) {
          this.clientEvents.push(e);
          this.onClientEvent(e, this);
        }
        continue;
      }
      return moved;
    }
  }

  static ofType<T extends ConnectionEvent['type']>(events: ConnectionEvent[], type: T): Extract<ConnectionEvent, { type: T }>[] {
    return events.filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type);
  }
}

/** Server driver that accepts every open. */
export function acceptAll(e: ConnectionEvent, pair: ConnectionPair): void {
  if (e.type === 'open-request') pair.server.acceptChannel(e.channel);
}
