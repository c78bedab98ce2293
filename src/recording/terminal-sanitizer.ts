/**
 * Streaming filter for replaying untrusted terminal output on a viewer's terminal.
 *
 * A recording is what a remote machine printed; replayed verbatim it can act on the viewer's
 * machine: OSC 52 writes the clipboard, OSC 0/1/2 set the window title (and title reports
 * echo it back as input), DA/DSR/DECRQSS/XTVERSION and friends make the terminal type a
 * reply into the player's stdin, XTWINOPS moves and resizes windows, DCS/APC/PM/SOS carry
 * terminal-specific payloads (tmux passthrough, kitty graphics, file transfers), and mouse or
 * focus reporting modes feed events back, ESC k sets a screen/tmux window name and MC prints.
 * This filter removes those and keeps everything that
 * only draws (text, SGR, cursor movement, erase, scroll regions, alternate screen, OSC 8 links).
 *
 * State carries across calls, so a sequence split between two recorded events is handled the
 * same as an unsplit one. The parser follows the DEC ANSI state machine (ECMA-48 section 5;
 * C1 introducers 0x90/0x98/0x9B/0x9D/0x9E/0x9F are treated like their 7-bit forms). Buffers
 * are bounded: an over-long sequence is dropped, never accumulated.
 */

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const ST_C1 = 0x9c;

const MAX_CSI = 256;
const MAX_OSC = 4096;

/** Private modes whose only effect is making the terminal send reports (mouse, focus). */
const REPORTING_MODES = new Set(['9', '1000', '1001', '1002', '1003', '1004', '1005', '1006', '1015', '1016']);

type State = 'ground' | 'esc' | 'escInter' | 'csi' | 'osc' | 'oscEsc' | 'str' | 'strEsc';

export type RemovedKind = 'osc-title' | 'osc-clipboard' | 'osc-other' | 'dcs-apc-pm-sos' | 'csi-query' | 'csi-window' | 'reporting-mode' | 'esc-query' | 'c1';

export class TerminalSanitizer {
  private state: State = 'ground';
  private buf = '';
  private overflow = false;
  /** Counts of what was removed, for the player's summary and tests. */
  readonly removed: Record<RemovedKind, number> = {
    'osc-title': 0,
    'osc-clipboard': 0,
    'osc-other': 0,
    'dcs-apc-pm-sos': 0,
    'csi-query': 0,
    'csi-window': 0,
    'reporting-mode': 0,
    'esc-query': 0,
    c1: 0,
  };

  /** Filters one chunk; returns what is safe to write now. */
  push(input: string): string {
    let out = '';
    let run = 0; // start of a pending ground-state run in `input`
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (this.state === 'ground') {
        if (c === ESC || (c >= 0x80 && c <= 0x9f)) {
          out += input.slice(run, i);
          run = i + 1;
          this.enterFromGround(c);
        }
        continue;
      }
      out += this.step(c, input[i] ?? '');
      if (this.isGround()) run = i + 1;
    }
    if (this.isGround()) out += input.slice(run);
    return out;
  }

  private isGround(): boolean {
    return this.state === 'ground';
  }

  /** End of stream: an unfinished sequence is dropped. */
  end(): string {
    this.state = 'ground';
    this.buf = '';
    return '';
  }

  private enterFromGround(c: number): void {
    this.buf = '';
    this.overflow = false;
    switch (c) {
      case ESC:
        this.state = 'esc';
        return;
      case 0x9b:
        this.state = 'csi';
        return;
      case 0x9d:
        this.state = 'osc';
        return;
      case 0x90:
      case 0x98:
      case 0x9e:
      case 0x9f:
        this.state = 'str';
        this.removed['dcs-apc-pm-sos']++;
        return;
      default:
        // Other C1 controls have no drawing use in UTF-8 output and some act in 8-bit mode.
        this.removed.c1++;
        this.state = 'ground';
    }
  }

  /** One character in a non-ground state; returns output. */
  private step(c: number, ch: string): string {
    switch (this.state) {
      case 'esc':
        return this.onEsc(c, ch);
      case 'escInter':
        if (c >= 0x20 && c <= 0x2f) {
          this.buf += ch;
          return '';
        }
        if (c < 0x20 && c !== ESC && c !== CAN && c !== SUB) return ch;
        this.state = 'ground';
        if (c >= 0x30 && c <= 0x7e) return `\x1b${this.buf}${ch}`;
        return c === ESC ? this.reenter() : '';
      case 'csi':
        return this.onCsi(c, ch);
      case 'osc':
        return this.onOsc(c, ch);
      case 'oscEsc':
        if (c === 0x5c) return this.finishOsc('\x1b\\');
        // ESC ends the string (ECMA-48 8.3.143 says only ST should; terminals accept this).
        {
          const done = this.finishOsc('\x1b\\');
          this.state = 'esc';
          this.buf = '';
          return done + this.onEsc(c, ch);
        }
      case 'str':
        if (c === ST_C1 || c === CAN || c === SUB) this.state = 'ground';
        else if (c === ESC) this.state = 'strEsc';
        return '';
      case 'strEsc':
        if (c === 0x5c) {
          this.state = 'ground';
          return '';
        }
        this.state = 'esc';
        this.buf = '';
        return this.onEsc(c, ch);
      case 'ground':
        return ch;
      default: {
        const never: never = this.state;
        throw new Error(`sanitizer state ${String(never)}`);
      }
    }
  }

  private reenter(): string {
    this.state = 'esc';
    this.buf = '';
    return '';
  }

  private onEsc(c: number, ch: string): string {
    switch (ch) {
      case '[':
        this.state = 'csi';
        this.buf = '';
        this.overflow = false;
        return '';
      case ']':
        this.state = 'osc';
        this.buf = '';
        this.overflow = false;
        return '';
      case 'P':
      case 'X':
      case '^':
      case '_':
        this.state = 'str';
        this.removed['dcs-apc-pm-sos']++;
        return '';
      case 'k':
        // ESC k title ESC \ : the screen/tmux window-name string, a title set by another name.
        this.state = 'str';
        this.removed['osc-title']++;
        return '';
      case 'Z':
        // DECID: the terminal answers with its identity.
        this.removed['esc-query']++;
        this.state = 'ground';
        return '';
      default:
        break;
    }
    if (c === ESC) return '';
    if (c === CAN || c === SUB) {
      this.state = 'ground';
      return '';
    }
    if (c < 0x20) return ch; // C0 controls execute inside escape sequences
    if (c <= 0x2f) {
      this.state = 'escInter';
      this.buf = ch;
      return '';
    }
    this.state = 'ground';
    return c <= 0x7e ? `\x1b${ch}` : '';
  }

  private onCsi(c: number, ch: string): string {
    if (c >= 0x40 && c <= 0x7e) {
      this.state = 'ground';
      if (this.overflow) return '';
      return this.decideCsi(this.buf, ch);
    }
    if (c >= 0x20 && c <= 0x3f) {
      if (this.buf.length >= MAX_CSI) this.overflow = true;
      else this.buf += ch;
      return '';
    }
    if (c === ESC) return this.reenter();
    if (c === CAN || c === SUB || c > 0x7e) {
      this.state = 'ground';
      return '';
    }
    return ch; // C0 control inside CSI: executed immediately, as terminals do
  }

  private decideCsi(body: string, final: string): string {
    const m = /^([<=>?]?)([0-9:;]*)([ -/]*)$/.exec(body);
    if (!m) return ''; // malformed parameters: nothing worth keeping
    const prefix = m[1] ?? '';
    const params = m[2] ?? '';
    const inter = m[3] ?? '';
    const keep = `\x1b[${body}${final}`;
    const query = (): string => {
      this.removed['csi-query']++;
      return '';
    };
    if (inter === '') {
      switch (final) {
        case 'c': // DA1, DA2 (>), DA3 (=)
        case 'n': // DSR, DECDSR
          return query();
        case 't': // XTWINOPS: moves/resizes/iconifies the window, reports title and geometry
          this.removed['csi-window']++;
          return '';
        case 'i': // MC (media copy): sends the screen to the viewer's printer
          return query();
        case 'x': // DECREQTPARM
          return prefix === '' ? query() : keep;
        case 'q': // XTVERSION is CSI > q
          return prefix === '>' ? query() : keep;
        case 'm': // CSI ? Pp m queries modifyOtherKeys
          return prefix === '?' ? query() : keep;
        case 'S': // XTSMGRAPHICS reads/sets graphics geometry and replies
          return prefix === '?' ? query() : keep;
        case 'u': // kitty keyboard protocol push/pop/query changes what the viewer's keys send
          return prefix === '' && params === '' ? keep : query();
        case 'h':
        case 'l':
          return prefix === '?' ? this.filterModes(params, final) : keep;
        default:
          return keep;
      }
    }
    if (inter === '$' && (final === 'p' || final === 'w' || final === 'u')) return query(); // DECRQM, DECRQPSR, DECRQTSR
    if (inter === '*' && final === 'y') return query(); // DECRQCRA (checksum of screen contents)
    if (inter === '#' && (final === 'S' || final === 'R')) return query(); // XTREPORTSGR / XTREPORTCOLORS
    return keep;
  }

  private filterModes(params: string, final: string): string {
    const all = params.split(';');
    const kept = all.filter((p) => !REPORTING_MODES.has(p));
    if (kept.length < all.length) this.removed['reporting-mode']++;
    if (kept.length === 0) return '';
    return `\x1b[?${kept.join(';')}${final}`;
  }

  private onOsc(c: number, ch: string): string {
    if (c === BEL) return this.finishOsc('\x07');
    if (c === ST_C1) return this.finishOsc('\x1b\\');
    if (c === ESC) {
      this.state = 'oscEsc';
      return '';
    }
    if (c === CAN || c === SUB) {
      this.state = 'ground';
      return '';
    }
    if (this.buf.length >= MAX_OSC) this.overflow = true;
    else this.buf += ch;
    return '';
  }

  private finishOsc(terminator: string): string {
    this.state = 'ground';
    const body = this.buf;
    this.buf = '';
    const semi = body.indexOf(';');
    const cmd = semi === -1 ? body : body.slice(0, semi);
    // OSC 8 (hyperlinks) only draws; every other OSC sets or queries terminal state.
    if (cmd === '8' && !this.overflow && !/[\x00-\x1f\x7f]/.test(body)) return `\x1b]${body}${terminator}`;
    if (cmd === '0' || cmd === '1' || cmd === '2') this.removed['osc-title']++;
    else if (cmd === '52') this.removed['osc-clipboard']++;
    else this.removed['osc-other']++;
    return '';
  }
}
