/**
 * Replies to want-reply requests must go out in the order the requests came in (RFC 4254 §4,
 * §5.4), yet the driver may decide them in any order, and some are answered by the machine at
 * once. Each request takes a slot; a reply fills its slot; filled slots at the head are sent.
 */
import { protocolError } from './protocol-error.js';

export interface ReplySlot<T> {
  readonly token: number;
  answer: T | undefined;
}

export class ReplyQueue<T> {
  private readonly slots: ReplySlot<T>[] = [];

  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {}

  get length(): number {
    return this.slots.length;
  }

  /** Takes a slot; a peer that piles up more unanswered requests than allowed is cut off. */
  push(token: number, answer?: T): void {
    if (this.slots.length >= this.max) {
      throw protocolError(`too many unanswered ${this.what} requests`);
    }
    this.slots.push({ token, answer });
  }

  has(token: number): boolean {
    return this.slots.some((s) => s.token === token && s.answer === undefined);
  }

  /** Fills a slot and returns the answers now ready to send, in order. */
  fill(token: number, answer: T | undefined): T[] {
    const slot = this.slots.find((s) => s.token === token);
    if (slot !== undefined && slot.answer === undefined && answer !== undefined) slot.answer = answer;
    const ready: T[] = [];
    while (this.slots.length > 0) {
      const head = this.slots[0];
      if (head === undefined || head.answer === undefined) break;
      ready.push(head.answer);
      this.slots.shift();
    }
    return ready;
  }

  clear(): void {
    this.slots.length = 0;
  }
}
