/**
 * The gateway's connection limits come from configuration (--max-connections,
 * --max-connections-per-source) and are enforced at accept, before any SSH byte: a refused
 * socket is closed without a version line, and a closed connection frees its slot.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServeHandle, startServe } from '../../src/cli/serve.js';
import { defaultConfig, loadConfig } from '../../src/config.js';
import { basePolicy } from '../policy/helpers.js';

type Outcome = { kind: 'version'; line: string; socket: Socket } | { kind: 'closed' };

/** Connects from `localAddress` and reports whether the server sent its version line or closed. */
function dial(port: number, localAddress: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve({ kind: 'version', line: text.slice(0, nl).trim(), socket });
    });
    socket.once('close', () => resolve({ kind: 'closed' }));
    socket.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve({ kind: 'closed' }) : reject(e)));
  });
}

const handles: ServeHandle[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const h of handles.splice(0)) await h.close();
});

const quiet = new Writable({ write: (_c, _e, cb) => cb() });

describe('gateway connection limits', () => {
  it('reads both limits from flags, environment and file, and refuses nonsense', () => {
    const { config } = loadConfig({ argv: ['--max-connections', '5000', '--max-connections-per-source=1200'], env: {} });
    expect(config.maxConnections).toBe(5000);
    expect(config.maxConnectionsPerSource).toBe(1200);
    const fromEnv = loadConfig({ argv: [], env: { GATEHOUSE_MAX_CONNECTIONS_PER_SOURCE: '7' } }).config;
    expect(fromEnv.maxConnectionsPerSource).toBe(7);
    expect(fromEnv.maxConnections).toBe(1024);
    expect(defaultConfig().maxConnectionsPerSource).toBe(64);
    expect(() => loadConfig({ argv: ['--max-connections-per-source', '0'], env: {} })).toThrow(/maxConnectionsPerSource \(from --max-connections-per-source\)/);
    expect(() => loadConfig({ argv: ['--max-connections', 'lots'], env: {} })).toThrow(/expected a number of connections/);
  });

  it('closes connections over the per-source and total limits at accept, and frees a slot on close', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-limits-'));
    mkdirSync(join(root, 'policies'));
    writeFileSync(join(root, 'policies', 'main.yaml'), basePolicy());
    const handle = await startServe(
      {
        ...defaultConfig(root),
        listen: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        logLevel: 'warn',
        maxConnections: 3,
        maxConnectionsPerSource: 2,
      },
      { destination: quiet },
    );
    handles.push(handle);
    const port = handle.gateway?.address.port ?? 0;
    expect(port).toBeGreaterThan(0);
    const open = async (from: string): Promise<Outcome> => {
      const o = await dial(port, from);
      if (o.kind === 'version') sockets.push(o.socket);
      return o;
    };

    const a1 = await open('127.0.0.1');
    const a2 = await open('127.0.0.1');
    expect(a1.kind === 'version' && a1.line.startsWith('SSH-2.0-')).toBe(true);
    expect(a2.kind).toBe('version');
    expect((await open('127.0.0.1')).kind).toBe('closed'); // third from one source
    expect((await open('127.0.0.2')).kind).toBe('version'); // another source still gets in
    expect((await open('127.0.0.3')).kind).toBe('closed'); // total of 3 reached

    // a connection that ends gives its slot back, to its source and to the total
    if (a1.kind !== 'version') throw new Error('unreachable');
    const gone = new Promise((r) => a1.socket.once('close', r));
    a1.socket.destroy();
    await gone;
    let again: Outcome = { kind: 'closed' };
    for (let i = 0; i < 50 && again.kind === 'closed'; i++) {
      again = await open('127.0.0.1');
      if (again.kind === 'closed') await new Promise((r) => setTimeout(r, 20));
    }
    expect(again.kind).toBe('version');
  });
});
