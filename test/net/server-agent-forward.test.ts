/**
 * Agent forwarding towards our server: the real `ssh -A` with a real ssh-agent asks for
 * auth-agent-req@openssh.com; our server opens an auth-agent@openssh.com channel back and
 * speaks the agent protocol over it (list identities and get a signature that verifies).
 */
import { describe, expect, it } from 'vitest';
import { generatePrivateKey } from '../../src/keys/private-key.js';
import { defaultSignatureVerifier } from '../../src/keys/signature.js';
import { AgentClient } from '../../src/net/agent-client.js';
import { SshServer } from '../../src/net/server.js';
import { parsePublicKeyBlob, parsePublicKeyLine } from '../../src/keys/public-key.js';
import { bytesEqual } from '../../src/wire/index.js';
import { generateKey, makeTempDir, requireBinaries, runSsh, startSshAgent } from '../support/index.js';

const req = requireBinaries('ssh', 'ssh-agent', 'ssh-add', 'ssh-keygen');

describe.skipIf(req.skip)(`ssh -A against our server${req.reason}`, () => {
  it('the server uses the forwarded agent: lists its keys and gets a verifying signature', async () => {
    const dir = makeTempDir();
    const login = await generateKey(dir, 'login', 'ed25519');
    const forwarded = await generateKey(dir, 'forwarded', 'ecdsa-256', { comment: 'fwd-key' });
    const agent = await startSshAgent();
    await agent.add(forwarded.privatePath);
    const allowed = parsePublicKeyLine(login.publicLine).blob;
    let agentRequested = false;
    const server = new SshServer({
      hostKeys: [generatePrivateKey('ssh-ed25519')],
      hooks: {
        authenticate: (_c, _u, check) =>
          (check.kind === 'publickey' || check.kind === 'publickey-query') && bytesEqual(check.key.blob, allowed)
            ? { type: 'accept' }
            : { type: 'reject', reason: 'not the login key' },
        channelOpen: (conn) => ({
          type: 'accept',
          onOpen: (ch) => {
            ch.requestHandler = async (r) => {
              if (r.type === 'auth-agent-req@openssh.com') {
                agentRequested = true;
                return true;
              }
              if (r.type !== 'exec') return false;
              setImmediate(async () => {
                const agentChannel = await conn.openChannel({ type: 'auth-agent@openssh.com' });
                const client = AgentClient.overStream(agentChannel);
                const ids = await client.listIdentities();
                const data = new TextEncoder().encode('proof of possession');
                const lines: string[] = [];
                for (const id of ids) {
                  const alg = id.keyType === 'ecdsa-sha2-nistp256' ? id.keyType : parsePublicKeyBlob(id.keyBlob).type;
                  const sig = await client.sign(id.keyBlob, data, alg);
                  lines.push(`${id.comment} ${defaultSignatureVerifier(alg, id.keyBlob, sig, data) ? 'verified' : 'BAD'}`);
                }
                client.close();
                ch.end(`${lines.join('\n')}\n`);
                ch.exit({ status: 0 });
              });
              return true;
            };
          },
        }),
      },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const r = await runSsh(['-A', 'root@127.0.0.1', 'list-agent'], {
        port,
        identity: login.privatePath,
        agentSocket: agent.socket,
        options: ['ForwardAgent=yes'],
      });
      expect(agentRequested).toBe(true);
      expect(r.stdout).toBe('fwd-key verified\n');
      expect(r.code).toBe(0);
    } finally {
      await server.close(true);
      await agent.stop();
    }
  });
});
