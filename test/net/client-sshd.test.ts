import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrivateKey, parsePublicKeyLine } from '../../src/keys/index.js';
import { SshClient, signerFromPrivateKey } from '../../src/net/client.js';
import type { ClientConnection } from '../../src/net/client-connection.js';
import { type GeneratedKey, generateKey, makeTempDir, requireBinaries, type SshdHandle, startSshd } from '../support/index.js';

const need = requireBinaries('sshd', 'ssh-keygen');

function pinned(line: string) {
  const want = parsePublicKeyLine(line).blob;
  return (_alg: string, blob: Uint8Array) =>
    blob.length === want.length && blob.every((v, i) => v === want[i]) ? { ok: true as const } : { ok: false as const, reason: 'host key mismatch' };
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

describe.skipIf(need.skip)(`SshClient against a real sshd${need.reason}`, () => {
  let sshd: SshdHandle;
  let key: GeneratedKey;
  let conn: ClientConnection;

  /** root@ the test sshd, its host key pinned, with `user`'s key. */
  const connectAs = (user: GeneratedKey): Promise<ClientConnection> =>
    SshClient.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: 'root',
      verifyHostKey: pinned(sshd.hostKeys[0] ?? ''),
      auth: [{ type: 'signer', signer: signerFromPrivateKey(parsePrivateKey(user.privatePem)) }],
    });

  beforeAll(async () => {
    const dir = makeTempDir();
    key = await generateKey(dir, 'user', 'ed25519');
    sshd = await startSshd({ authorizedKeys: [key.publicLine] });
    conn = await connectAs(key);
  });
  afterAll(async () => {
    conn?.disconnect();
    await sshd?.stop();
  });

  it('runs a command and reports its exit status', async () => {
    const ch = await conn.openChannel({ type: 'session' });
    const exit = new Promise<number | null>((r) => ch.once('exit', (s: number | null) => r(s)));
    expect(await ch.request({ type: 'exec', command: 'echo out; echo err >&2; exit 7', commandBytes: new TextEncoder().encode('echo out; echo err >&2; exit 7') }, true)).toBe(true);
    ch.end();
    const [out, err] = await Promise.all([collect(ch), collect(ch.stderr)]);
    expect(out.toString()).toBe('out\n');
    expect(err.toString().endsWith('err\n')).toBe(true);
    expect(await exit).toBe(7);
  });

  it('streams 20 MB through cat with a matching sha256', async () => {
    const ch = await conn.openChannel({ type: 'session' });
    await ch.request({ type: 'exec', command: 'cat', commandBytes: new TextEncoder().encode('cat') }, true);
    const data = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    const got = collect(ch);
    ch.end(data);
    const out = await got;
    expect(out.length).toBe(data.length);
    expect(createHash('sha256').update(out).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('three connections at once share the read buffer (shared-read.ts): every byte comes back intact on each', async () => {
    // Outbound sockets read into one buffer for the whole thread; interleaved reads of three
    // connections, each with packets split across reads, must not corrupt one another.
    const conns = await Promise.all(
      [0, 1, 2].map(() => connectAs(key)),
    );
    try {
      await Promise.all(
        conns.map(async (c, k) => {
          const ch = await c.openChannel({ type: 'session' });
          await ch.request({ type: 'exec', command: 'cat', commandBytes: new TextEncoder().encode('cat') }, true);
          const data = Buffer.alloc((6 + k) * 1024 * 1024);
          for (let i = 0; i < data.length; i += 512) data.writeUInt32BE((i * (k + 3)) >>> 0, i);
          const got = collect(ch);
          ch.end(data);
          const out = await got;
          expect(out.length).toBe(data.length);
          expect(createHash('sha256').update(out).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
        }),
      );
    } finally {
      for (const c of conns) c.disconnect();
    }
  });

  it('refuses a server whose host key is not the pinned one', async () => {
    const other = await generateKey(makeTempDir(), 'other', 'ed25519');
    await expect(
      SshClient.connect({
        host: '127.0.0.1',
        port: sshd.port,
        username: 'root',
        verifyHostKey: pinned(other.publicLine),
        auth: [{ type: 'signer', signer: signerFromPrivateKey(parsePrivateKey(key.privatePem)) }],
      }),
    ).rejects.toThrow(/host key/);
  });

  it('reports failed authentication with the methods left', async () => {
    const stranger = await generateKey(makeTempDir(), 'stranger', 'ed25519');
    await expect(connectAs(stranger)).rejects.toThrow(/authentication failed/);
  });
});
