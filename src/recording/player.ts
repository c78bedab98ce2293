/**
 * Terminal replay of an asciicast: timing with speed and idle-time limit, pause/resume, single
 * stepping while paused, speed changes and quit. Output goes through TerminalSanitizer unless
 * `raw` (see terminal-sanitizer.ts for why); escaped invalid bytes (utf8-escape.ts) are shown
 * as U+FFFD when sanitizing and written back as the original bytes in raw mode.
 *
 * `b` events (binary output of a channel without a pty) are shown like `o` output: their bytes
 * are base64 in older casts, or with `binary_output: "b-sidecar"` read from the channel's .bin
 * (`binary` option) one bounded piece at a time.
 *
 * Time is injected (`clock`) so tests drive it without real waiting.
 */
import type { CastEvent } from './asciicast.js';
import { parseBinaryRef } from './binary-ref.js';
import { TerminalSanitizer } from './terminal-sanitizer.js';
import { escapedToBytes, escapesToReplacement, StreamingUtf8Decoder } from './utf8-escape.js';

export interface PlayerClock {
  now(): number;
  /** Resolves after `ms`, or earlier when `signal` fires. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: PlayerClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

export interface PlayerOptions {
  readonly speed?: number;
  /** Seconds; longer pauses in the recording are shortened to this. */
  readonly idleTimeLimit?: number;
  readonly raw?: boolean;
  readonly write: (data: string | Uint8Array) => void;
  readonly clock?: PlayerClock;
  /**
   * Set for a "b-sidecar" cast: `b` events are references into this file
   * (BinaryFileReader.range, a view valid until the next piece). Unset: `b` events hold base64.
   */
  readonly binary?: { range(offset: number, length: number): AsyncIterable<Uint8Array> };
}

export type PlayerResult = 'finished' | 'quit';

const MIN_SPEED = 1 / 64;
const MAX_SPEED = 64;

export class Player {
  private speed: number;
  private paused = false;
  private steps = 0;
  private quitting = false;
  private wake = new AbortController();
  private readonly sanitizer: TerminalSanitizer | null;
  /** Decodes `b` events for display (a character may be split across two of them). */
  private readonly binaryText = new StreamingUtf8Decoder();
  private readonly clock: PlayerClock;

  constructor(
    private readonly events: readonly CastEvent[],
    private readonly opts: PlayerOptions,
  ) {
    this.speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, opts.speed ?? 1));
    this.sanitizer = opts.raw ? null : new TerminalSanitizer();
    this.clock = opts.clock ?? realClock;
  }

  get currentSpeed(): number {
    return this.speed;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get sanitizerStats(): TerminalSanitizer['removed'] | undefined {
    return this.sanitizer?.removed;
  }

  togglePause(): void {
    this.paused = !this.paused;
    this.poke();
  }

  pause(): void {
    this.paused = true;
    this.poke();
  }

  /** While paused: show the next event now. */
  step(): void {
    if (!this.paused) return;
    this.steps++;
    this.poke();
  }

  faster(): void {
    this.speed = Math.min(MAX_SPEED, this.speed * 2);
    this.poke();
  }

  slower(): void {
    this.speed = Math.max(MIN_SPEED, this.speed / 2);
    this.poke();
  }

  quit(): void {
    this.quitting = true;
    this.poke();
  }

  /** Interprets keys typed by the viewer (stdin in raw mode). Escape sequences are ignored. */
  handleKeys(input: string): void {
    if (input.startsWith('\x1b')) return;
    for (const k of input) {
      if (k === ' ') this.togglePause();
      else if (k === '.') this.step();
      else if (k === '+' || k === '=') this.faster();
      else if (k === '-' || k === '_') this.slower();
      else if (k === 'q' || k === '\x03' || k === '\x04') this.quit();
    }
  }

  async run(): Promise<PlayerResult> {
    const limitUs = this.opts.idleTimeLimit !== undefined && this.opts.idleTimeLimit > 0 ? this.opts.idleTimeLimit * 1e6 : Number.POSITIVE_INFINITY;
    let prevUs = 0;
    for (const e of this.events) {
      let remainingUs = Math.min(Math.max(0, e.timeUs - prevUs), limitUs);
      prevUs = e.timeUs;
      while (!this.quitting) {
        if (this.paused) {
          if (this.steps > 0) {
            this.steps--;
            break;
          }
          await this.waitForPoke();
          continue;
        }
        if (remainingUs <= 0) break;
        const t0 = this.clock.now();
        const speed = this.speed;
        await this.clock.sleep(remainingUs / speed / 1000, this.wake.signal);
        this.renewWake();
        remainingUs -= (this.clock.now() - t0) * 1000 * speed;
      }
      if (this.quitting) return this.finish('quit');
      if (e.code === 'b' && this.opts.binary) await this.showReferenced(e, this.opts.binary);
      else this.show(e);
    }
    return this.finish('finished');
  }

  private show(e: CastEvent): void {
    if (e.code === 'b') {
      // Binary output of a channel without a pty (FORMAT.md): its bytes, shown like `o` data.
      this.showBytes(Buffer.from(e.data, 'base64'), false);
      return;
    }
    if (e.code !== 'o') return;
    if (this.sanitizer) {
      const s = this.sanitizer.push(escapesToReplacement(e.data));
      if (s) this.opts.write(s);
    } else this.opts.write(escapedToBytes(e.data));
  }

  /** A `b` event of a "b-sidecar" cast: its bytes from the .bin, piece by piece (memory stays bounded). */
  private async showReferenced(e: CastEvent, binary: NonNullable<PlayerOptions['binary']>): Promise<void> {
    const ref = parseBinaryRef(e.data);
    // parseCast already refused such an event; a caller building events by hand gets the same answer.
    if (!ref) throw new Error(`binary (b) event data ${JSON.stringify(e.data.slice(0, 80))} is not "<offset>+<length>:<sha256>"`);
    for await (const piece of binary.range(ref.offset, ref.length)) this.showBytes(piece, true);
  }

  /** `view`: the bytes may be overwritten after this returns, so a raw write gets a copy. */
  private showBytes(bytes: Uint8Array, view: boolean): void {
    if (this.sanitizer) {
      const s = this.sanitizer.push(escapesToReplacement(this.binaryText.decode(bytes)));
      if (s) this.opts.write(s);
    } else this.opts.write(view ? Buffer.from(bytes) : bytes);
  }

  private finish(r: PlayerResult): PlayerResult {
    this.sanitizer?.end();
    return r;
  }

  private poke(): void {
    this.wake.abort();
  }

  private renewWake(): void {
    if (this.wake.signal.aborted) this.wake = new AbortController();
  }

  private async waitForPoke(): Promise<void> {
    if (!this.wake.signal.aborted) {
      await new Promise<void>((resolve) => this.wake.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    this.renewWake();
  }
}
