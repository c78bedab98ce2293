import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listRecordedSessions } from '../../src/recording/catalog.js';
import { enc, openTestSession, tempDir } from './helpers.js';

describe('listRecordedSessions', () => {
  it('lists sessions newest first with their index, and broken ones with the problem', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const a = await openTestSession(dir, { sessionId: 'older', start: new Date(Date.UTC(2026, 10, 1, 10)) });
      await a.rec.finish();
      const b = await openTestSession(dir, { sessionId: 'newer', start: new Date(Date.UTC(2026, 10, 2, 10)) });
      const ch = await b.rec.openChannel({ kind: 'exec', command: 'id' });
      ch.output(enc('uid=0(root)\n'));
      await b.rec.finish();
      await mkdir(join(dir, '2026', '11', '02', 'broken'), { recursive: true });
      await writeFile(join(dir, '2026', '11', '02', 'broken', 'index.json'), '{"nope":1}');
      const list = await listRecordedSessions(dir);
      expect(list.map((s) => s.sessionId)).toEqual(['newer', 'older', 'broken']);
      expect(list[0]?.index?.channels[0]).toMatchObject({ kind: 'exec', command: 'id' });
      expect(list[0]?.index?.who.identity).toBe('alice@example.com');
      expect(list[2]?.problem).toContain('not a session index');
      expect((await listRecordedSessions(dir, { limit: 1 })).length).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
