/**
 * Agent forwarding (OpenSSH PROTOCOL §2.1 "auth-agent@openssh.com"): each agent channel
 * the peer opens is bridged to a fresh connection to a local agent socket. Backpressure holds
 * in both directions because both ends are streams joined with pipe().
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Bridges one auth-agent@openssh.com channel to the agent listening on `socketPath`. Resolves
 * once connected; the returned socket is destroyed when the channel closes (and vice versa).
 */
export function bridgeAgentChannel(channel: Duplex, socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const agent = connect({ path: socketPath });
    agent.once('error', (e) => {
      channel.destroy();
      reject(e);
    });
    agent.once('connect', () => {
      agent.removeAllListeners('error');
      agent.on('error', () => channel.destroy());
      channel.on('error', () => agent.destroy());
      channel.pipe(agent);
      agent.pipe(channel);
      channel.once('close', () => agent.destroy());
      agent.once('close', () => {
        if (!channel.destroyed) channel.end();
      });
      resolve(agent);
    });
  });
}
