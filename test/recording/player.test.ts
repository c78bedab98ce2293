import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/cli/replay.js';
import type { CastEvent } from '../../src/recording/asciicast.js';
import { Player, type PlayerClock } from '../../src/recording/player.js';
import { ESCAPE_BASE } from '../../src/recording/utf8-escape.js';
import { enc, openTestSession, tempDir } from './helpers.js';
import { writeSidecarSession } from './sidecar-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Virtual time: sleeping advances the clock at once and records how long was asked for. */
function virtualClock(): PlayerClock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

const ev = (s: number, data: string, code: CastEvent['code'] = 'o'): CastEvent => ({ timeUs: s * 1e6, code, data });

describe('Player', () => {
  it('plays output events in order with speed and idle-time limit applied', async () => {
    const clock = virtualClock();
    let out = '';
    const p = new Player([ev(1, 'a'), ev(2, 'x', 'i'), ev(3, 'b'), ev(103, 'c'), ev(103.5, '', 'm')], {
      speed: 2,
      idleTimeLimit: 5,
      write: (d) => (out += typeof d === 'string' ? d : Buffer.from(d).toString()),
      clock,
    });
    expect(await p.run()).toBe('finished');
    expect(out).toBe('abc');
    // 1 s, 1 s, 1 s, 100 s capped to 5, 0.5 s — all halved by speed 2
    expect(clock.slept.map((ms) => Math.round(ms))).toEqual([500, 500, 500, 2500, 250]);
  });

  it('steps one event at a time while paused, then resumes and quits', async () => {
    let out = '';
    const sleeps: (() => void)[] = [];
    const clock: PlayerClock = {
      now: () => 0,
      sleep: (_ms, signal) =>
        new Promise((resolve) => {
          // never elapses on its own: only controls wake the player
          signal.addEventListener('abort', () => resolve(), { once: true });
          sleeps.push(resolve);
        }),
    };
    const p = new Player([ev(1, 'a'), ev(2, 'b'), ev(3, 'c'), ev(4, 'd')], { write: (d) => (out += String(d)), clock });
    p.handleKeys(' ');
    expect(p.isPaused).toBe(true);
    const done = p.run();
    const tick = () => new Promise((r) => setTimeout(r, 5));
    await tick();
    expect(out).toBe('');
    p.handleKeys('.');
    await tick();
    expect(out).toBe('a');
    p.handleKeys('.');
    await tick();
    expect(out).toBe('ab');
    p.handleKeys('+');
    expect(p.currentSpeed).toBe(2);
    p.handleKeys('--');
    expect(p.currentSpeed).toBe(0.5);
    p.handleKeys('\x1b[A'); // arrow keys and mouse reports are ignored
    p.handleKeys('q');
    expect(await done).toBe('quit');
    expect(out).toBe('ab');
  });

  it('sanitizes by default and writes raw bytes with raw', async () => {
    const evil = `t\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b]0;title\x07\x1b[6n${String.fromCodePoint(ESCAPE_BASE + 0xff)}z`;
    let safe = '';
    await new Player([ev(0, evil)], { write: (d) => (safe += String(d)), clock: virtualClock() }).run();
    expect(safe).toBe('t\ufffdz');
    const raw: Uint8Array[] = [];
    await new Player([ev(0, evil)], { raw: true, write: (d) => raw.push(typeof d === 'string' ? enc(d) : d), clock: virtualClock() }).run();
    const bytes = Buffer.concat(raw);
    expect(bytes.includes(Buffer.from('\x1b]52;c;'))).toBe(true);
    expect(bytes.at(-2)).toBe(0xff);
  });
});

describe('gatehouse replay', () => {
  it('replays a recording containing OSC 52 and title sequences without emitting them', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { rec } = await openTestSession(dir);
    const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm' } });
    ch.output(enc('$ ls\r\n\x1b]0;owned title\x07'));
    ch.output(enc('file.txt\x1b]5')); // split across events
    ch.output(enc('2;c;Y3VybCBldmlsfHNo\x07\r\n\x1bP$qm\x1b\\done\r\n'));
    await rec.closeChannel(ch);
    const index = await rec.finish();
    for (const target of [join(rec.dir, 'channel-0.cast'), rec.dir, index.sessionId]) {
      const out: string[] = [];
      let err = '';
      const code = await runReplay([target, '--speed', '64', '--idle-time-limit', '0.01', '--recordings', dir], {
        stdout: { write: (d) => out.push(typeof d === 'string' ? d : Buffer.from(d).toString('utf8')) },
        stderr: { write: (s) => (err += s) },
      });
      expect(code, err).toBe(0);
      const text = out.join('');
      expect(text).toBe('$ ls\r\nfile.txt\r\ndone\r\n');
      expect(err).toContain('3 terminal control sequence(s)');
    }
  });

  it('--raw keeps the bytes; unknown session ids fail with a message', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'x.cast');
    await writeFile(file, '{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "a\\u001b]52;c;eA==\\u0007b"]\n');
    let out = '';
    const io = { stdout: { write: (d: string | Uint8Array) => (out += typeof d === 'string' ? d : Buffer.from(d).toString()) }, stderr: { write: () => true } };
    expect(await runReplay([file, '--raw', '--speed', '64'], io)).toBe(0);
    expect(out).toBe('a\x1b]52;c;eA==\x07b');
    let err = '';
    expect(await runReplay(['nope', '--recordings', dir], { stdout: io.stdout, stderr: { write: (s: string) => (err += s) } })).toBe(1);
    expect(err).toContain('no recording file or session "nope"');
    expect(await runReplay([], io)).toBe(2);
  });
});

describe('gatehouse replay of binary output kept in a sidecar (b-sidecar)', () => {
  // A chunk split inside a character (✓ = e2 9c 93), an invalid byte, terminal controls, and a
  // chunk larger than the read window so it is shown in several pieces.
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = 0x61 + (i % 26);
  const split = Uint8Array.from([0x41, 0xe2, 0x9c]);
  const invalidAndOsc = Buffer.concat([Buffer.from([0x93, 0xff]), enc('\x1b]52;c;eA==\x07B')]);
  const events = [
    { t: 0.1, o: 'start\n' },
    { t: 0.2, b: split },
    { t: 0.3, b: invalidAndOsc },
    { t: 0.4, o: 'middle\n' },
    { t: 0.5, b: big },
    { t: 0.6, b: enc('end\n') },
  ];

  async function replay(args: readonly string[]): Promise<{ code: number; out: Buffer; err: string }> {
    const out: Buffer[] = [];
    let err = '';
    const code = await runReplay([...args, '--speed', '64', '--idle-time-limit', '0.01'], {
      // Kept as given, not copied: a written piece must not change afterwards.
      stdout: { write: (d) => out.push(typeof d === 'string' ? Buffer.from(d, 'utf8') : (d as Buffer)) },
      stderr: { write: (s) => (err += s) },
    });
    return { code, out: Buffer.concat(out), err };
  }

  it('--raw writes exactly the bytes of the .bin ranges, in event order with the text', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const fx = await writeSidecarSession(dir, { events });
    for (const target of [fx.cast, fx.dir, fx.sessionId]) {
      const r = await replay([target, '--raw', '--recordings', dir]);
      expect(r.code, r.err).toBe(0);
      const expected = Buffer.concat([enc('start\n'), split, invalidAndOsc, enc('middle\n'), big, enc('end\n')]);
      expect(r.out.equals(expected)).toBe(true);
    }
  });

  it('sanitizes the bytes by default (characters joined across events, invalid bytes as U+FFFD, OSC 52 removed)', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const fx = await writeSidecarSession(dir, { events, version: 3 });
    const r = await replay([fx.cast]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString('utf8')).toBe(`start\nA\u2713\ufffdBmiddle\n${big.toString('latin1')}end\n`);
    expect(r.err).toContain('1 terminal control sequence(s)');
  });

  it('a missing or short .bin is a clean error naming the file', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const fx = await writeSidecarSession(dir, { events });
    await truncate(fx.bin, 100);
    let r = await replay([fx.cast, '--raw']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(fx.bin);
    expect(r.err).toContain('ends at byte 100');
    // what was there is shown before the error
    expect(r.out.subarray(0, 6).toString()).toBe('start\n');
    await rm(fx.bin);
    r = await replay([fx.cast]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/channel-0\.bin is missing/);
    expect(r.err).toContain(fx.bin);
  });

  it('a cast without b events needs no .bin', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const fx = await writeSidecarSession(dir, { events: [{ t: 0.1, o: 'only text\n' }], noBin: true });
    const r = await replay([fx.cast]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toBe('only text\n');
  });
});
