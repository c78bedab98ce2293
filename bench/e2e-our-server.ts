/**
 * The server side of bench/e2e.ts: an SshServer that authorizes one key and, for any exec on a
 * session channel, reads and discards everything (→ /dev/null), then exits 0 at EOF.
 */
import { generatePrivateKey } from '../src/keys/private-key.js';
import { parsePublicKeyLine } from '../src/keys/public-key.js';
import { SshServer } from '../src/net/server.js';
import { bytesEqual } from '../src/wire/index.js';

export async function startOurSink(opts: { authorizedKey: string }): Promise<{ port: number; stop(): Promise<void> }> {
  const allowed = parsePublicKeyLine(opts.authorizedKey).blob;
  const server = new SshServer({
    hostKeys: [generatePrivateKey('ssh-ed25519')],
    hooks: {
      authenticate: (_c, _user, check) =>
        (check.kind === 'publickey' || check.kind === 'publickey-query') && bytesEqual(check.key.blob, allowed)
          ? { type: 'accept' }
          : { type: 'reject', reason: 'not the bench key' },
      channelOpen: (_c, open) =>
        open.type === 'session'
          ? {
              type: 'accept',
              onOpen: (ch) => {
                ch.requestHandler = (req) => {
                  if (req.type !== 'exec') return req.type === 'env';
                  ch.on('data', () => {});
                  ch.on('end', () => ch.exit({ status: 0 }));
                  return true;
                };
              },
            }
          : { type: 'reject', reason: 1, description: 'sessions only' },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, stop: () => server.close(true) };
}
