import { describe, expect, it } from 'vitest';
import { TargetMenu } from '../../src/gateway/target-menu.js';

const enc = (s: string) => new TextEncoder().encode(s);
const entries = [
  { target: 'db1', login: 'root', description: 'prod database' },
  { target: 'web1', login: 'deploy', description: '' },
  { target: 'web2', login: 'deploy', description: '' },
];

describe('TargetMenu', () => {
  it('lists the entries and picks the highlighted one with Enter', () => {
    const m = new TargetMenu('alice', entries);
    expect(m.render()).toContain('1) root@db1  prod database');
    m.feed(enc('\x1b[B'));
    expect(m.render()).toMatch(/> 2\) deploy@web1/);
    m.feed(enc('\r'));
    expect(m.state).toEqual({ kind: 'chosen', entry: entries[1] });
  });

  it('accepts a typed number, with backspace, and wraps arrows', () => {
    const m = new TargetMenu('alice', entries);
    m.feed(enc('\x1b[A'));
    expect(m.render()).toMatch(/> 3\) deploy@web2/);
    m.feed(enc('9\x7f1\r'));
    expect(m.state).toEqual({ kind: 'chosen', entry: entries[0] });
  });

  it('ignores an out-of-range number and keeps waiting', () => {
    const m = new TargetMenu('alice', entries);
    m.feed(enc('7\r'));
    expect(m.state.kind).toBe('pending');
  });

  it('quits on q and on Ctrl-C, and when there is nothing to choose', () => {
    const q = new TargetMenu('alice', entries);
    q.feed(enc('q'));
    expect(q.state.kind).toBe('quit');
    const c = new TargetMenu('alice', entries);
    c.feed(Uint8Array.of(3));
    expect(c.state.kind).toBe('quit');
    const none = new TargetMenu('bob', []);
    expect(none.render()).toContain('may not reach any target');
    none.feed(enc('\r'));
    expect(none.state.kind).toBe('quit');
  });

  it('strips control characters from names it prints', () => {
    const m = new TargetMenu('eve\x1b]52;c;AAAA\x07', [{ target: 'x\x1b[2J', login: 'r', description: '\x9b31m' }]);
    const screen = m.render();
    expect(screen).not.toContain('\x1b]52');
    expect(screen).not.toContain('\x1b[2Jx');
    expect(screen).not.toContain('\x9b');
  });
});
