/**
 * The primary's side of the session API without processes: RemoteFeed's credit accounting
 * (a worker can never fill the primary beyond its credit; every message the viewer takes
 * returns one credit), and remoteSessions' routing over a fake worker channel.
 */
import { describe, expect, it } from 'vitest';
import { FOLLOW_CREDIT, RemoteFeed, remoteSessions, type WorkerChannel } from '../../src/cluster/remote-sessions.js';
import type { WorkerRequest } from '../../src/cluster/protocol.js';
import type { LiveMessage } from '../../src/recording/index.js';

const ev = (data: string): LiveMessage => ({ type: 'event', channel: 0, event: { timeUs: 0, code: 'o', data } });

describe('RemoteFeed', () => {
  it('grants one credit per message taken, never for messages still queued', async () => {
    const grants: number[] = [];
    let cancelled = 0;
    const feed = new RemoteFeed((n) => grants.push(n), () => cancelled++);
    for (let i = 0; i < FOLLOW_CREDIT; i++) expect(feed.push(ev(`m${i}`))).toBe(true);
    expect(grants).toEqual([]);
    const first = await feed.next();
    expect(first).toEqual(ev('m0'));
    expect(grants).toEqual([1]);
    // Room for exactly one more now.
    expect(feed.push(ev('late'))).toBe(true);
    feed.end();
    const rest: LiveMessage[] = [];
    for await (const m of feed) rest.push(m);
    expect(rest).toHaveLength(FOLLOW_CREDIT);
    expect(rest.at(-1)).toEqual(ev('late'));
    // After the worker ended the follow nothing is granted (there is nobody to grant to).
    expect(grants).toEqual([1]);
    expect(cancelled).toBe(0);
  });

  it('ends the follow and cancels it at the worker when the worker exceeds its credit', async () => {
    let cancelled = 0;
    const feed = new RemoteFeed(() => {}, () => cancelled++, 2);
    expect(feed.push(ev('a'))).toBe(true);
    expect(feed.push(ev('b'))).toBe(true);
    expect(feed.push(ev('c'))).toBe(false);
    expect(cancelled).toBe(1);
    expect(await feed.next()).toBeUndefined();
  });

  it('hands a message straight to a waiting reader and grants for it', async () => {
    const grants: number[] = [];
    const feed = new RemoteFeed((n) => grants.push(n), () => {});
    const pending = feed.next();
    feed.push(ev('now'));
    expect(await pending).toEqual(ev('now'));
    expect(grants).toEqual([1]);
  });

  it('close() by the viewer ends iteration and tells the worker once', async () => {
    let cancelled = 0;
    const feed = new RemoteFeed(() => {}, () => cancelled++);
    const pending = feed.next();
    feed.close();
    feed.close();
    expect(await pending).toBeUndefined();
    expect(cancelled).toBe(1);
  });
});

function summary(id: string, worker: number, startedAt: string) {
  return { id, user: 'alice', authMethod: 'publickey', target: 'db1', login: 'root', client: '127.0.0.1:1', startedAt, recording: `/r/${id}`, worker, pid: 100 + worker };
}

function fakeChannel(replies: Record<number, (m: WorkerRequest) => unknown>, owners: Record<string, number> = {}) {
  const sent: { worker: number; m: WorkerRequest }[] = [];
  const unanswered: number[] = [];
  const feeds = new Map<string, RemoteFeed>();
  let req = 0;
  const ch: WorkerChannel = {
    workerIds: () => Object.keys(replies).map(Number),
    ownerOf: (id) => owners[id],
    request: async (worker, build) => {
      const m = build(++req);
      sent.push({ worker, m });
      const reply = replies[worker];
      if (!reply) throw new Error(`worker ${worker} gone`);
      return reply(m);
    },
    attachFeed: (w, watch, feed) => feeds.set(`${w}/${watch}`, feed),
    detachFeed: (w, watch) => feeds.delete(`${w}/${watch}`),
    grant: () => {},
    closeFollow: () => {},
    nextRequestId: () => ++req,
    onUnanswered: (w) => unanswered.push(w),
  };
  return { ch, sent, unanswered, feeds };
}

describe('remoteSessions', () => {
  it('lists the sessions of every worker by start time, dropping malformed entries and reporting silent workers', async () => {
    const { ch, unanswered } = fakeChannel({
      1: () => [summary('b', 1, '2026-01-01T00:00:02.000Z'), { id: 'broken' }],
      2: () => [summary('a', 2, '2026-01-01T00:00:01.000Z')],
      3: () => {
        throw new Error('timeout');
      },
    });
    const list = await remoteSessions(ch).list();
    expect(list.map((s) => [s.id, s.worker])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(unanswered).toEqual([3]);
  });

  it('sends kill, get and watch only to the worker that announced the session', async () => {
    const { ch, sent, feeds } = fakeChannel(
      {
        1: () => false,
        2: (m) => (m.t === 'gh:kill' ? true : m.t === 'gh:get' ? summary('s2', 2, '2026-01-01T00:00:00.000Z') : m.t === 'gh:watch'),
      },
      { s2: 2 },
    );
    const dir = remoteSessions(ch);
    expect(await dir.terminate('s2', 'bye')).toBe(true);
    expect(await dir.terminate('nobody', 'bye')).toBe(false);
    expect((await dir.get('s2'))?.worker).toBe(2);
    const feed = await dir.watch('s2');
    expect(feed).toBeInstanceOf(RemoteFeed);
    expect(feeds.size).toBe(1);
    expect(await dir.watch('nobody')).toBeUndefined();
    expect(sent.every((s) => s.worker === 2)).toBe(true);
    expect(sent.map((s) => s.m.t)).toEqual(['gh:kill', 'gh:get', 'gh:watch']);
    const watchReq = sent[2]?.m;
    expect(watchReq?.t === 'gh:watch' ? watchReq.credit : 0).toBe(FOLLOW_CREDIT);
  });

  it('detaches the feed when the worker no longer has the session', async () => {
    const { ch, feeds } = fakeChannel({ 1: () => false }, { gone: 1 });
    expect(await remoteSessions(ch).watch('gone')).toBeUndefined();
    expect(feeds.size).toBe(0);
  });
});
