/**
 * `gatehouse verify PATH [--key FILE|--state DIR] [--json]`
 * PATH: a session directory, a file inside one, or a recordings tree. Exit 0 when every
 * session verifies, 1 when any problem is found, 2 on usage errors.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { loadRecordingVerifyKey } from '../recording/recording-key.js';
import { verify } from '../recording/verify.js';

export const VERIFY_USAGE = 'usage: gatehouse verify PATH [--key recording-key.pub | --state-dir DIR] [--json]';

export interface VerifyIo {
  readonly stdout: { write(data: string): unknown };
  readonly stderr: { write(data: string): unknown };
}

export async function runVerify(argv: readonly string[], io: VerifyIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  // --state-dir (and --config, GATEHOUSE_STATE_DIR) are shared settings: src/config.ts.
  const { config, rest } = loadConfig({ argv });
  let values: { key?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { key: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${VERIFY_USAGE}\n`);
    return 2;
  }
  const path = positionals[0];
  if (values.help || path === undefined || positionals.length > 1) {
    io.stderr.write(`${VERIFY_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  let key: Awaited<ReturnType<typeof loadRecordingVerifyKey>>;
  try {
    key = await loadRecordingVerifyKey(values.key ?? config.stateDir);
  } catch (e) {
    io.stderr.write(`cannot load the recording public key: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  let report: Awaited<ReturnType<typeof verify>>;
  try {
    report = await verify(path, key);
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    if (report.sessions.length === 0) io.stdout.write(`no sessions found under ${path}\n`);
    for (const s of report.sessions) {
      const lines = s.files.map((f) => `${f.file} (${f.lines} lines)`).join(', ');
      const note = s.state === 'interrupted' ? ' (gateway stopped mid-session; sealed at recovery)' : '';
      if (s.problems.length === 0) io.stdout.write(`OK ${s.sessionId}: signed by ${key.keyId}${note}; ${lines}\n`);
      else {
        io.stdout.write(`FAILED ${s.sessionId} (${s.dir}):\n`);
        for (const p of s.problems) io.stdout.write(`  ${p.kind}: ${p.message}\n`);
      }
    }
  }
  return report.ok ? 0 : 1;
}
