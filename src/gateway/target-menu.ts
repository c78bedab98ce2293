/**
 * The interactive target menu shown to `ssh -p 2222 alice@gateway` (no target named).
 * A pure state machine: terminal input bytes in, screen text and a final choice out. The
 * gateway runs it on the session channel until the user picks a destination.
 */
export interface MenuEntry {
  readonly target: string;
  readonly login: string;
  readonly description: string;
}

export type MenuResult =
  | { readonly kind: 'pending' }
  | { readonly kind: 'chosen'; readonly entry: MenuEntry }
  | { readonly kind: 'quit' };

const MAX_INPUT = 8;
const CSI_UP = '\x1b[A';
const CSI_DOWN = '\x1b[B';

export class TargetMenu {
  private selected = 0;
  private typed = '';
  private escape = '';
  private result: MenuResult = { kind: 'pending' };

  constructor(
    private readonly user: string,
    private readonly entries: readonly MenuEntry[],
  ) {}

  get state(): MenuResult {
    return this.result;
  }

  /** The full screen, drawn at start and after each change. */
  render(): string {
    const lines = [`\x1b[2J\x1b[HGatehouse — targets for ${sanitize(this.user)}`, ''];
    if (this.entries.length === 0) {
      lines.push('  You may not reach any target. Ask your administrator for access.', '');
      return `${lines.join('\r\n')}\r\n`;
    }
    const width = String(this.entries.length).length;
    this.entries.forEach((e, i) => {
      const mark = i === this.selected ? '>' : ' ';
      const desc = e.description ? `  ${sanitize(e.description)}` : '';
      lines.push(`${mark} ${String(i + 1).padStart(width)}) ${sanitize(e.login)}@${sanitize(e.target)}${desc}`);
    });
    lines.push('', `Choose with ↑/↓ and Enter, or type a number; q quits. ${this.typed ? `> ${this.typed}` : ''}`);
    return lines.join('\r\n');
  }

  /** Feeds terminal input; returns text to redraw (empty when nothing changed). */
  feed(input: Uint8Array): string {
    if (this.result.kind !== 'pending') return '';
    let changed = false;
    for (const byte of input) {
      const ch = String.fromCharCode(byte);
      if (this.escape) {
        this.escape += ch;
        if (this.escape === CSI_UP || this.escape === CSI_DOWN) {
          this.move(this.escape === CSI_UP ? -1 : 1);
          this.escape = '';
          changed = true;
        } else if (this.escape.length >= 3 || (this.escape.length === 2 && ch !== '[' && ch !== 'O')) {
          this.escape = '';
        }
        continue;
      }
      if (byte === 0x1b) {
        this.escape = ch;
      } else if (byte === 0x03 || byte === 0x04 || ch === 'q' || ch === 'Q') {
        this.result = { kind: 'quit' };
        return '\r\n';
      } else if (byte === 0x0d || byte === 0x0a) {
        if (this.entries.length === 0) {
          this.result = { kind: 'quit' };
          return '\r\n';
        }
        const index = this.typed ? Number(this.typed) - 1 : this.selected;
        const entry = this.entries[index];
        this.typed = '';
        if (entry) {
          this.result = { kind: 'chosen', entry };
          return `\r\nConnecting to ${sanitize(entry.login)}@${sanitize(entry.target)}…\r\n`;
        }
        changed = true;
      } else if (byte === 0x7f || byte === 0x08) {
        this.typed = this.typed.slice(0, -1);
        changed = true;
      } else if (byte >= 0x30 && byte <= 0x39 && this.typed.length < MAX_INPUT) {
        this.typed += ch;
        const n = Number(this.typed);
        if (n >= 1 && n <= this.entries.length) this.selected = n - 1;
        changed = true;
      } else if (ch === 'k' || ch === 'j') {
        this.move(ch === 'k' ? -1 : 1);
        changed = true;
      }
    }
    return changed ? this.render() : '';
  }

  private move(delta: number): void {
    if (this.entries.length === 0) return;
    this.typed = '';
    this.selected = (this.selected + delta + this.entries.length) % this.entries.length;
  }
}

/** Names come from the policy file; never let them carry terminal control sequences. */
function sanitize(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.codePointAt(0) ?? 0;
    if (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0)) out += c;
  }
  return out;
}
