import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseHostPort } from '../../src/config.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = `listen: 127.0.0.1:2222
admin: 127.0.0.1:9122
stateDir: ./state
policies: ./policies
workers: 2
logLevel: info
recordingFormat: v3
oidc:
  issuer: https://idp.example
  clientId: gatehouse
  clientSecretFile: secret
`;
const TOKENS = ['\n', ': ', '- ', '[', ']', '{', '}', '&a ', '*a', '!!binary ', '"', '~', '0', '-1', 'true', '\t', '#', '<<: *a\n', '\u0000'];

describe('config loader fuzz', () => {
  it('mutated config files give a config or a ConfigError, nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-fuzz-'));
    const next = rng(99);
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      let text = BASE;
      for (let k = 0; k < 1 + Math.floor(next() * 5); k++) {
        const pos = Math.floor(next() * text.length);
        const tok = TOKENS[Math.floor(next() * TOKENS.length)] ?? '';
        text = next() < 0.6 ? text.slice(0, pos) + tok + text.slice(pos) : text.slice(0, pos) + text.slice(pos + 1 + Math.floor(next() * 10));
      }
      const file = join(dir, `c${i}.yaml`);
      writeFileSync(file, text);
      try {
        const { config } = loadConfig({ argv: ['--config', file], env: {} });
        expect(config.listen.port).toBeGreaterThanOrEqual(0);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`iteration ${i}: ${String(e)}\n${text}`);
        expect(e.issues.length).toBeGreaterThan(0);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(25);
  });

  it('random host:port strings never throw', () => {
    const next = rng(5);
    const alphabet = '0123456789.:[]abcdef -';
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let k = 0; k < Math.floor(next() * 24); k++) s += alphabet[Math.floor(next() * alphabet.length)];
      const hp = parseHostPort(s);
      if (hp) expect(hp.port >= 0 && hp.port <= 65535).toBe(true);
    }
  });
});
