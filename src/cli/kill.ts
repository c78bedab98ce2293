/**
 * `gatehouse kill SESSION-ID [--admin URL|HOST:PORT] [--state-dir DIR]` ends one live session
 * (DELETE /api/sessions/<id>); the gateway tells its user why. Exit 0 ended, 1 no such session
 * or the gateway could not be reached, 2 usage.
 */
import { type AdminCliIo, AdminCliError, adminClientFromArgv, errorText, withAdminErrors } from './sessions.js';

export const KILL_USAGE = 'usage: gatehouse kill SESSION-ID [--admin URL|HOST:PORT] [--state-dir DIR] [--config FILE]';

export async function runKill(argv: readonly string[], io: AdminCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${KILL_USAGE}\n`);
    return 0;
  }
  return withAdminErrors(io, 'kill', async () => {
    const { client, rest } = adminClientFromArgv(argv, io);
    const [id, ...extra] = rest;
    if (id === undefined || id === '' || extra.length > 0) throw new AdminCliError(KILL_USAGE, 2);
    const res = await client.request('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
    if (res.status === 404) throw new AdminCliError(`no live session ${JSON.stringify(id.slice(0, 128))} (${await errorText(res)})`);
    if (!res.ok) throw new AdminCliError(`ending session ${id} failed: ${await errorText(res)}`);
    await res.body?.cancel();
    io.stdout.write(`ended session ${id}\n`);
    return 0;
  });
}

export const run = (argv: string[]): Promise<number> => runKill(argv);
