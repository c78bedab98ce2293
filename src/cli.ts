#!/usr/bin/env -S node --max-semi-space-size=4 --single-threaded-gc --initial-old-space-size=64
/**
 * The `gatehouse` binary: a dispatcher over COMMANDS. Each command lives in src/cli/<name>.ts
 * and is loaded only when used, so adding a command is one row here.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config.js';
import type { CommandRun } from './cli/io.js';

export interface CommandRow {
  readonly name: string;
  readonly summary: string;
  readonly run: CommandRun;
}

export const COMMANDS: readonly CommandRow[] = [
  { name: 'serve', summary: 'run the gateway (SSH listener, admin/metrics listener, policy reload)', run: async (a) => (await import('./cli/serve.js')).run(a) },
  { name: 'policy', summary: 'policy check [DIR] | policy explain --user U --target T --login L [--action A]', run: async (a) => (await import('./cli/policy.js')).run(a) },
  { name: 'ca', summary: 'ca host|user [--state-dir DIR]: print a CA public key as one OpenSSH line', run: async (a) => (await import('./cli/ca.js')).run(a) },
  { name: 'replay', summary: 'replay FILE|SESSION-ID: play a recording in this terminal', run: async (a) => (await import('./cli/replay.js')).runReplay(a) },
  { name: 'verify', summary: 'verify PATH: check recording hash chains and signatures', run: async (a) => (await import('./cli/verify.js')).runVerify(a) },
  { name: 'recordings', summary: 'recordings prune --older-than 90d: delete old recordings', run: async (a) => (await import('./cli/recordings.js')).runRecordings(a) },
  { name: 'sessions', summary: 'sessions [--admin URL]: list live sessions | sessions revoke-key FINGERPRINT: end the SSO binding of a key', run: async (a) => (await import('./cli/sessions.js')).run(a) },
  { name: 'watch', summary: 'watch SESSION-ID [--raw]: follow a live session in this terminal', run: async (a) => (await import('./cli/watch.js')).run(a) },
  { name: 'kill', summary: 'kill SESSION-ID: end a live session', run: async (a) => (await import('./cli/kill.js')).run(a) },
  { name: 'login', summary: 'login --gateway URL: web sign-in for a short-lived SSH certificate', run: async (a) => (await import('./cli/login.js')).runLogin(a) },
  { name: 'oidc', summary: 'oidc check: test the OIDC provider settings and credentials', run: async (a) => (await import('./cli/oidc.js')).runOidc(a) },
];

/** A command made of named subcommands (`gatehouse sessions revoke-key ...`); one row each. */
export function subcommands(command: string, table: Readonly<Record<string, CommandRun>>): CommandRun {
  return async (argv) => {
    const [sub, ...rest] = argv;
    const run = sub !== undefined && Object.hasOwn(table, sub) ? table[sub] : undefined;
    if (run) return run(rest);
    const names = Object.keys(table).join(', ');
    const out = sub === '--help' || sub === '-h' ? process.stdout : process.stderr;
    out.write(`usage: gatehouse ${command} SUBCOMMAND ...\nsubcommands: ${names}\n`);
    return out === process.stdout ? 0 : 2;
  };
}

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: gatehouse COMMAND [ARGS...]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `gatehouse COMMAND --help` for the options of one command.',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`gatehouse: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gatehouse ${name}: configuration error\n${e.message}\n`);
      return 2;
    }
    process.stderr.write(`gatehouse ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`gatehouse: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
