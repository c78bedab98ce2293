import { describe, expect, it } from 'vitest';
import { TerminalSanitizer } from '../../src/recording/terminal-sanitizer.js';

function clean(s: string): string {
  const t = new TerminalSanitizer();
  return t.push(s) + t.end();
}

/** Feeds `s` split at every position (and one char at a time) and checks the result is stable. */
function expectSplitSafe(s: string, expected: string): void {
  expect(clean(s)).toBe(expected);
  for (let cut = 1; cut < s.length; cut++) {
    const t = new TerminalSanitizer();
    expect(t.push(s.slice(0, cut)) + t.push(s.slice(cut)) + t.end(), `split at ${cut}`).toBe(expected);
  }
  const t = new TerminalSanitizer();
  let out = '';
  for (const ch of s) out += t.push(ch);
  expect(out + t.end()).toBe(expected);
}

describe('TerminalSanitizer', () => {
  it('removes OSC 52 clipboard writes (BEL and ST terminated, 7- and 8-bit)', () => {
    expectSplitSafe('a\x1b]52;c;cm0gLXJmIH4=\x07b', 'ab');
    expectSplitSafe('a\x1b]52;c;cm0gLXJmIH4=\x1b\\b', 'ab');
    expectSplitSafe('a\u009d52;c;eA==\u009cb', 'ab');
    const t = new TerminalSanitizer();
    t.push('\x1b]52;c;eA==\x07');
    expect(t.removed['osc-clipboard']).toBe(1);
  });

  it('removes title sets OSC 0/1/2 and the screen/tmux window name ESC k', () => {
    expectSplitSafe('\x1b]0;pwned\x07x\x1b]2;t\x1b\\y\x1b]1;icon\x07z', 'xyz');
    expectSplitSafe('a\x1bkrenamed\x1b\\b', 'ab');
  });

  it('removes media copy (print screen) requests', () => {
    expectSplitSafe('a\x1b[5ib\x1b[0ic', 'abc');
  });

  it('removes queries that make the terminal answer: DA, DSR, DECRQM, XTVERSION, XTWINOPS, DECID', () => {
    expectSplitSafe('1\x1b[c2\x1b[>0c3\x1b[6n4\x1b[?6n5\x1b[?2004$p6\x1b[>q7\x1b[21t8\x1b[8;50;100t9\x1bZ0', '1234567890');
  });

  it('removes DCS (DECRQSS, XTGETTCAP, sixel), APC, PM and SOS, also split', () => {
    expectSplitSafe('a\x1bP$qm\x1b\\b\x1bP+q544e\x1b\\c', 'abc');
    expectSplitSafe('a\x1b_Gf=100;AAAA\x1b\\b\x1b^private\x1b\\c\x1bXsos\x1b\\d', 'abcd');
    expectSplitSafe('a\u0090$q"p\u009cb', 'ab');
  });

  it('keeps drawing sequences: SGR, cursor movement, erase, alternate screen, charset, OSC 8 links', () => {
    const drawing = '\x1b[1;31mred\x1b[0m\x1b[2J\x1b[H\x1b[10;5H\x1b[?1049h\x1b[?25l\x1b(B\x1b7\x1b8\x1b[3 q\r\n';
    expectSplitSafe(drawing, drawing);
    const link = '\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\';
    expectSplitSafe(link, link);
  });

  it('drops reporting modes (mouse, focus) but keeps other modes in the same sequence', () => {
    expectSplitSafe('\x1b[?1000;1006h\x1b[?25;1004hx', '\x1b[?25hx');
  });

  it('keeps UTF-8 text, including astral characters, around removed sequences', () => {
    expectSplitSafe('é😀\x1b]0;t\x07✓', 'é😀✓');
  });

  it('bounds buffered sequences: an endless OSC does not grow memory and is dropped', () => {
    const t = new TerminalSanitizer();
    let out = t.push('x\x1b]52;c;');
    for (let i = 0; i < 1000; i++) out += t.push('A'.repeat(1000));
    out += t.push('\x07y');
    expect(out).toBe('xy');
  });

  it('CAN/SUB abort a sequence; ESC restarts one', () => {
    expectSplitSafe('a\x1b[12\x18b\x1b]0;t\x1ac', 'abc');
    expectSplitSafe('a\x1b[1\x1b[31mb', 'a\x1b[31mb');
  });

  it('never lets an introducer through (fuzz)', () => {
    let seed = 99;
    const rnd = (): number => {
      seed = (seed * 48271) % 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = ['\x1b', ']', '[', 'P', '_', '^', 'X', '\\', '\x07', ';', '5', '2', '0', 'c', 'n', 't', 'q', '$', 'p', '?', 'a', '\u009d', '\u0090', '\u009c', '\x18', 'm', 'h', '>'];
    for (let iter = 0; iter < 2000; iter++) {
      let s = '';
      const n = Math.floor(rnd() * 40);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const t = new TerminalSanitizer();
      let out = '';
      let i = 0;
      while (i < s.length) {
        const len = 1 + Math.floor(rnd() * 5);
        out += t.push(s.slice(i, i + len));
        i += len;
      }
      out += t.end();
      // What comes out must be stable under a second pass: nothing dangerous is assembled.
      const again = new TerminalSanitizer();
      expect(again.push(out) + again.end()).toBe(out);
      expect(out).not.toMatch(/\x1b\](?!8;)|\x1bP|\x1b_|\x1b\^|\x1bX|[\u0090\u009d\u009e\u009f\u0098]|\x1b\[[0-9;]*[cnt]/);
    }
  });
});
