/**
 * When a connection exchanges keys again (RFC 4253 §9, RFC 4344 §3): after a volume of data or
 * of packets in either direction, or once an interval has passed since the last exchange. The
 * transport counts every packet here and asks; it decides whether an exchange can start.
 */
import type { TransportOptions } from './transport-types.js';

const DEFAULT_REKEY_BYTES = 2 ** 30;
const DEFAULT_REKEY_PACKETS = 2 ** 31;
const DEFAULT_REKEY_INTERVAL_MS = 60 * 60 * 1000;

export class RekeyLimits {
  private bytesIn = 0;
  private bytesOut = 0;
  private packetsIn = 0;
  private packetsOut = 0;
  private readonly maxBytes: number;
  private readonly maxPackets: number;
  private readonly intervalMs: number;
  /** The driver's clock, as of its last tick. */
  private lastTick: number | undefined;
  /** When the last exchange completed, on that clock (the first tick after it, if none came before). */
  private exchangedAt: number | undefined;

  constructor(options: Pick<TransportOptions, 'rekeyBytes' | 'rekeyPackets' | 'rekeyIntervalMs'>) {
    this.maxBytes = options.rekeyBytes ?? DEFAULT_REKEY_BYTES;
    this.maxPackets = options.rekeyPackets ?? DEFAULT_REKEY_PACKETS;
    this.intervalMs = options.rekeyIntervalMs ?? DEFAULT_REKEY_INTERVAL_MS;
  }

  /** A packet of `wireLength` bytes arrived. */
  received(wireLength: number): void {
    this.bytesIn += wireLength;
    this.packetsIn++;
  }

  /** A packet of `wireLength` bytes was queued to send. */
  sent(wireLength: number): void {
    this.bytesOut += wireLength;
    this.packetsOut++;
  }

  /** Whether either direction has carried the volume that calls for new keys. */
  get volumeReached(): boolean {
    return Math.max(this.bytesIn, this.bytesOut) >= this.maxBytes || Math.max(this.packetsIn, this.packetsOut) >= this.maxPackets;
  }

  /**
   * The driver's clock. True when the interval since the last exchange has passed; `canRekey`:
   * keys are in place and no exchange is running (otherwise the time is only noted).
   */
  tick(nowMs: number, canRekey: boolean): boolean {
    this.lastTick = nowMs;
    if (!canRekey) return false;
    if (this.exchangedAt === undefined) {
      this.exchangedAt = nowMs;
      return false;
    }
    return this.intervalMs > 0 && nowMs - this.exchangedAt >= this.intervalMs;
  }

  /** An exchange completed: the volumes count afresh, and the interval runs from now. */
  exchanged(): void {
    this.bytesIn = this.bytesOut = this.packetsIn = this.packetsOut = 0;
    this.exchangedAt = this.lastTick;
  }
}
