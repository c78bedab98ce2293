import { spawnSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingFailureNotice } from '../../src/recording/failures.js';
import { loadOrCreateRecordingKey, loadRecordingVerifyKey } from '../../src/recording/recording-key.js';
import { tempDir } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('recording key', () => {
  it('is created 0600 once, reloaded unchanged, and verifies from the public file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const state = join(dir, 'state');
      const a = await loadOrCreateRecordingKey(state);
      expect((await stat(join(state, 'recording-key.pem'))).mode & 0o777).toBe(0o600);
      const b = await loadOrCreateRecordingKey(state);
      expect(b.keyId).toBe(a.keyId);
      expect(a.keyId).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      const msg = new TextEncoder().encode('index');
      const sig = a.sign(msg);
      const pub = await loadRecordingVerifyKey(state);
      expect(pub.keyId).toBe(a.keyId);
      expect(pub.verify(msg, sig)).toBe(true);
      expect(pub.verify(new TextEncoder().encode('indeX'), sig)).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it.skipIf(!hasOpenssl)('writes PEM files openssl reads as the same Ed25519 key', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await loadOrCreateRecordingKey(dir);
      const fromPrivate = spawnSync('openssl', ['pkey', '-in', join(dir, 'recording-key.pem'), '-pubout'], { encoding: 'utf8' });
      expect(fromPrivate.status, fromPrivate.stderr).toBe(0);
      expect(fromPrivate.stdout).toBe(await readFile(join(dir, 'recording-key.pub'), 'utf8'));
      const text = spawnSync('openssl', ['pkey', '-in', join(dir, 'recording-key.pem'), '-noout', '-text'], { encoding: 'utf8' });
      expect(text.stdout).toContain('ED25519 Private-Key');
    } finally {
      await cleanup();
    }
  });
  if (!hasOpenssl) it.skip('PEM interop check needs openssl (Debian package openssl)', () => undefined);

  it('a wrong file is a typed error', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(dir, 'recording-key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      await expect(loadOrCreateRecordingKey(dir)).rejects.toThrow(/not an Ed25519 PKCS#8 private key/);
    } finally {
      await cleanup();
    }
  });
});

describe('recordingFailureNotice', () => {
  it('tells the user why the session ends', () => {
    expect(recordingFailureNotice({ kind: 'write-failed', file: 'f', code: 'EROFS', message: 'm', lostLines: 0, lostBytes: 0 })).toContain('not writable, EROFS');
    expect(recordingFailureNotice({ kind: 'write-failed', file: 'f', code: 'ENOSPC', message: 'm', lostLines: 0, lostBytes: 0 })).toContain('disk is full');
    expect(recordingFailureNotice({ kind: 'queue-full', file: 'f', message: 'm', lostLines: 1, lostBytes: 1 })).toContain('could not keep up');
  });
});
