/**
 * SshClient: opens a TCP connection and returns an authenticated ClientConnection.
 *
 *   const conn = await SshClient.connect({ host, port, username: 'root',
 *     verifyHostKey: pinnedHostKeys([line]), auth: [{ type: 'signer', signer: signerFromPrivateKey(key) }] });
 *   const ch = await conn.openChannel({ type: 'session' });
 */
import type { Socket } from 'node:net';
import type { PrivateKey } from '../keys/private-key.js';
import { DisconnectReason } from '../wire/index.js';
import { ClientConnection, type ClientConnectionOptions, type ClientSigner } from './client-connection.js';
import { connectSharedReads } from './shared-read.js';

export interface SshConnectOptions extends ClientConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Gives up (and closes) when not authenticated within this time; default 30 s. */
  readonly readyTimeoutMs?: number;
  /** An already-connected stream to use instead of dialing (tests, jump hosts). */
  readonly socket?: Socket;
}

export const SshClient = {
  async connect(options: SshConnectOptions): Promise<ClientConnection> {
    const socket = options.socket ?? (await dial(options.host, options.port, options.readyTimeoutMs ?? 30_000));
    const conn = new ClientConnection(socket, options);
    const timeout = setTimeout(
      () => conn.disconnect(DisconnectReason.BY_APPLICATION, 'authentication timed out'),
      options.readyTimeoutMs ?? 30_000,
    );
    try {
      await conn.ready;
    } finally {
      clearTimeout(timeout);
    }
    return conn;
  },
};

function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectSharedReads(host, port);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A ClientSigner over a loaded private key, optionally presenting a certificate blob for it. */
export function signerFromPrivateKey(key: PrivateKey, certificateBlob?: Uint8Array): ClientSigner {
  const plain = [...key.algorithms];
  if (certificateBlob === undefined) {
    return { publicKeyBlob: key.publicKeyBlob, algorithms: plain, sign: (alg, data) => key.sign(alg, data) };
  }
  return {
    publicKeyBlob: certificateBlob,
    algorithms: plain.map((a) => `${a}-cert-v01@openssh.com`),
    sign: (alg, data) => key.sign(alg.replace('-cert-v01@openssh.com', ''), data),
  };
}
