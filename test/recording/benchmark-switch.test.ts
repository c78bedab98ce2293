/**
 * The bench-only switch (src/recording/benchmark-switch.ts) that bench/unrecorded-gateway.ts uses
 * to measure recording on against off: off by default, and once on, every channel file says that
 * its data was not recorded. (Vitest runs each test file in its own module graph, so turning it
 * on here cannot leak into other tests.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BENCHMARK_UNRECORDED_MARKER,
  disableChannelDataRecordingForBenchmark,
  isChannelDataRecordingDisabled,
} from '../../src/recording/benchmark-switch.js';
import { parseCast } from '../../src/recording/cast-reader.js';
import { enc, openTestSession, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function recordOneChannel() {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  const { rec } = await openTestSession(dir, { recordInput: true });
  const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm' } });
  ch.output(enc('secret output\r\n'));
  ch.input(enc('typed\r'));
  ch.setExit({ type: 'status', status: 0 });
  const entry = await rec.closeChannel(ch);
  await rec.finish();
  return { cast: parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8')), entry };
}

describe('benchmark-only unrecorded switch', () => {
  it('is off unless a benchmark entry point turns it on; then data is skipped and the file says so', async () => {
    expect(isChannelDataRecordingDisabled()).toBe(false);
    const recorded = await recordOneChannel();
    expect(recorded.cast.events.map((e) => e.code)).toEqual(['o', 'i', 'm']);
    expect(recorded.cast.events.some((e) => e.data === BENCHMARK_UNRECORDED_MARKER)).toBe(false);

    disableChannelDataRecordingForBenchmark();
    const skipped = await recordOneChannel();
    expect(skipped.cast.events.map((e) => e.code)).toEqual(['m', 'm']);
    expect(skipped.cast.events[0]?.data).toBe(BENCHMARK_UNRECORDED_MARKER);
    // byte counts in the index still say what was relayed
    expect(skipped.entry).toMatchObject({ bytesOut: 15, bytesIn: 6 });
  });
});
