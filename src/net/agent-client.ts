/**
 * A client for a running ssh-agent on a unix socket (SSH_AUTH_SOCK): list identities and ask
 * for signatures, one request at a time (the protocol has no request ids, replies come in
 * order). Used by SshClient for `auth: { type: 'agent' }`.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AgentIdentity,
  AgentFrameReader,
  AgentProtocolError,
  decodeIdentitiesAnswer,
  decodeSignResponse,
  encodeRequestIdentities,
  encodeSignRequest,
  signFlagsFor,
} from './agent-protocol.js';

export class AgentClient {
  private readonly frames = new AgentFrameReader();
  private readonly waiting: { resolve(b: Uint8Array): void; reject(e: Error): void }[] = [];
  private closedError: Error | null = null;

  private constructor(private readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      let bodies: Uint8Array[];
      try {
        bodies = this.frames.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch (e) {
        this.fail(e instanceof Error ? e : new AgentProtocolError(String(e)));
        return;
      }
      for (const body of bodies) {
        const w = this.waiting.shift();
        if (w === undefined) {
          this.fail(new AgentProtocolError('unsolicited agent message'));
          return;
        }
        w.resolve(body);
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new AgentProtocolError('agent connection closed')));
  }

  /**
   * Speaks the agent protocol over any stream, e.g. an auth-agent@openssh.com channel the
   * server opened towards a client that forwards its agent (ssh -A).
   */
  static overStream(stream: Duplex): AgentClient {
    return new AgentClient(stream);
  }

  /** Connects to the agent at `path` (default: $SSH_AUTH_SOCK). */
  static connect(path = process.env['SSH_AUTH_SOCK']): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      if (path === undefined || path === '') {
        reject(new AgentProtocolError('no agent: SSH_AUTH_SOCK is not set'));
        return;
      }
      const s = connect({ path });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new AgentClient(s));
      });
    });
  }

  private fail(e: Error): void {
    if (this.closedError === null) this.closedError = e;
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.socket.destroy();
  }

  private request(message: Uint8Array): Promise<Uint8Array> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(message);
    });
  }

  async listIdentities(): Promise<AgentIdentity[]> {
    return decodeIdentitiesAnswer(await this.request(encodeRequestIdentities()));
  }

  /**
   * Asks the agent to sign `data` with the key `keyBlob`, using signature algorithm
   * `algorithm` (for RSA keys this picks the sha2 flag). Returns the signature blob.
   */
  async sign(keyBlob: Uint8Array, data: Uint8Array, algorithm: string): Promise<Uint8Array> {
    return decodeSignResponse(await this.request(encodeSignRequest(keyBlob, data, signFlagsFor(algorithm))));
  }

  close(): void {
    this.fail(new AgentProtocolError('agent client closed'));
  }
}
