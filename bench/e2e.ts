/**
 * End-to-end throughput: the OpenSSH client uploading through one session channel to
 *   (a) our SshServer, which discards what it reads (→ /dev/null), and
 *   (b) a real sshd running `cat > /dev/null`,
 * per cipher, in the same run on the same machine, printed as a ratio ours/sshd.
 * Each figure is (bytes) / (time of the transfer − time of an empty transfer), so the key
 * exchange and process start-up are taken out; best of REPS runs.
 *
 *   npm run build && node dist/bench/e2e.js            (GATEHOUSE_BENCH_MB=256, REPS=3 by default)
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOurSink } from './e2e-our-server.js';
import { generateKey, makeTempDir, removeTempDir, sshArgs, startSshd } from '../test/support/index.js';

const MB = Number(process.env['GATEHOUSE_BENCH_MB'] ?? 256);
const REPS = Number(process.env['GATEHOUSE_BENCH_REPS'] ?? 3);

const CIPHERS: readonly { cipher: string; mac?: string }[] = [
  { cipher: 'chacha20-poly1305@openssh.com' },
  { cipher: 'aes128-gcm@openssh.com' },
  { cipher: 'aes256-gcm@openssh.com' },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com' },
  { cipher: 'aes256-ctr', mac: 'hmac-sha2-512-etm@openssh.com' },
];

/** Runs ssh with stdin from `inputPath`; resolves with elapsed ms, rejects on a non-zero exit. */
function timedSsh(argv: { program: string; argv: string[] }, inputPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = openSync(inputPath, 'r');
    const t0 = process.hrtime.bigint();
    const child = spawn(argv.program, argv.argv, { stdio: [fd, 'ignore', 'pipe'], env: { ...process.env, SSH_AUTH_SOCK: '' } });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('close', (code) => {
      closeSync(fd);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.program} exited ${code}: ${err}`));
    });
  });
}

async function measure(port: number, identity: string, c: { cipher: string; mac?: string }, big: string, empty: string) {
  const options = [`Ciphers=${c.cipher}`, ...(c.mac === undefined ? [] : [`MACs=${c.mac}`]), 'Compression=no'];
  const args = () => sshArgs(['root@127.0.0.1', 'cat > /dev/null'], { port, identity, options });
  let best = Number.POSITIVE_INFINITY;
  let base = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPS; i++) {
    base = Math.min(base, await timedSsh(args(), empty));
    best = Math.min(best, await timedSsh(args(), big));
  }
  const ms = Math.max(1, best - base);
  return (MB * 1024 * 1024) / 1e6 / (ms / 1000);
}

async function main() {
  const dir = makeTempDir('gatehouse-bench-');
  const big = join(dir, 'payload');
  const empty = join(dir, 'empty');
  writeFileSync(big, Buffer.alloc(MB * 1024 * 1024, 0x5a));
  writeFileSync(empty, '');
  const user = await generateKey(dir, 'user', 'ed25519');
  const sshd = await startSshd({ authorizedKeys: [user.publicLine], hostKeyTypes: ['ed25519'] });
  const ours = await startOurSink({ authorizedKey: user.publicLine });
  console.log(`# OpenSSH ssh → server → /dev/null, ${MB} MiB per transfer, best of ${REPS}, MB/s (10^6 bytes/s)`);
  console.log(`# node ${process.version}; sshd ${sshd.version} runs 'cat > /dev/null', ours discards in-process`);
  console.log(['cipher', 'mac', 'sshd MB/s', 'gatehouse MB/s', 'ratio'].join('\t'));
  try {
    for (const c of CIPHERS) {
      const theirs = await measure(sshd.port, user.privatePath, c, big, empty);
      const mine = await measure(ours.port, user.privatePath, c, big, empty);
      console.log([c.cipher, c.mac ?? '(aead)', theirs.toFixed(0), mine.toFixed(0), (mine / theirs).toFixed(2)].join('\t'));
    }
  } finally {
    await ours.stop();
    await sshd.stop();
    removeTempDir(dir);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
