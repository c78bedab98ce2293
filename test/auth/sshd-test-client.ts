/** A minimal test-only driver (socket + Transport + AuthClient + SshConnection) and key helpers for the sshd interop tests. */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  AuthClient,
  type AuthClientEvent,
  type ClientCredential,
  routeMessage,
  type ServerAuthExtensions,
  serverAuthExtensionsFromExtInfo,
} from '../../src/auth/index.js';
import { type ChannelId, type ConnectionEvent, SshConnection } from '../../src/connection/index.js';
import { encodeBase64 } from '../../src/keys/base64.js';
import { defaultSignatureVerifier } from '../../src/keys/signature.js';
import { Transport } from '../../src/transport/transport.js';
import { SshWriter } from '../../src/wire/index.js';
import type { TestKey } from './auth-pair.js';

export interface RsaKey {
  blob: Uint8Array;
  privateKey: KeyObject;
}

export function rsaKey(): RsaKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const jwk = publicKey.export({ format: 'jwk' });
  const mp = (b64: string | undefined) => {
    const b = new Uint8Array(Buffer.from(String(b64), 'base64url'));
    return new SshWriter().mpintFromBytes(b).finish();
  };
  const blob = new SshWriter().string('ssh-rsa').raw(mp(jwk.e)).raw(mp(jwk.n)).finish();
  return { blob, privateKey };
}

export function line(blob: Uint8Array, type: string): string {
  return `${type} ${encodeBase64(blob)} test`;
}

/** One client connection: transport + userauth + connection machines over a socket. */
export class TestClient {
  readonly authEvents: AuthClientEvent[] = [];
  readonly connEvents: ConnectionEvent[] = [];
  readonly signedWith: string[] = [];
  conn: SshConnection | undefined;
  private auth: AuthClient | undefined;
  private ext: ServerAuthExtensions = {};
  private hostKey: Uint8Array = new Uint8Array(0);
  private readonly socket: Socket;
  private readonly transport: Transport;
  private waiters: (() => void)[] = [];
  private readonly closedByUs = new Set<ChannelId>();
  ended: string | undefined;

  constructor(
    port: number,
    private readonly credentials: ClientCredential[],
    private readonly signer: (blob: Uint8Array, algorithm: string, data: Uint8Array) => Uint8Array | null,
    private readonly noneFirst = true,
  ) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.transport = new Transport(
      {
        write: (b) => {
          if (!this.socket.destroyed && this.socket.writable) this.socket.write(b);
        },
        event: (e) => {
          switch (e.type) {
            case 'host-key':
              this.hostKey = e.publicKey;
              this.transport.acceptHostKey();
              break;
            case 'kex-complete':
              if (e.initial) {
                this.auth = new AuthClient({
                  sink: (p) => this.transport.send(p),
                  user: 'root',
                  sessionId: e.sessionId,
                  hostKeyBlob: this.hostKey,
                  credentials: this.credentials,
                  noneFirst: this.noneFirst,
                });
                this.auth.setServerExtensions(this.ext);
                this.auth.start();
              }
              break;
            case 'ext-info':
              this.ext = serverAuthExtensionsFromExtInfo(e.extensions);
              this.auth?.setServerExtensions(this.ext);
              break;
            case 'payload':
              this.onPayload(e.payload);
              break;
            case 'disconnect':
              this.ended = e.description;
              break;
            default:
              break;
          }
          this.wake();
        },
      },
      { role: 'client', verifySignature: defaultSignatureVerifier },
    );
    this.socket.on('data', (d) => {
      try {
        this.transport.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      } catch (err) {
        this.ended = String(err);
        this.socket.destroy();
      }
      this.wake();
    });
    this.socket.on('error', (err) => {
      this.ended ??= String(err);
    });
    this.socket.on('close', () => {
      this.ended ??= 'socket closed';
      this.wake();
    });
    this.socket.on('connect', () => this.transport.start());
  }

  private onPayload(payload: Uint8Array): void {
    const auth = this.auth;
    if (auth === undefined) throw new Error('payload before key exchange');
    const route = routeMessage(payload, 'client', auth.phase);
    switch (route.route) {
      case 'auth':
        this.onAuth(auth.handle(payload));
        return;
      case 'connection':
        this.connEvents.push(...(this.conn?.handle(payload) ?? []));
        return;
      case 'disconnect':
        throw new Error(route.message);
      default:
        return;
    }
  }

  private onAuth(events: AuthClientEvent[]): void {
    const auth = this.auth;
    if (auth === undefined) return;
    for (const e of events) {
      this.authEvents.push(e);
      if (e.type === 'sign') {
        this.signedWith.push(e.algorithm);
        // answer later, as an agent would
        setImmediate(() => {
          this.onAuth(auth.signed(e.id, this.signer(e.publicKeyBlob, e.algorithm, e.data)));
          this.wake();
        });
      }
      if (e.type === 'success') this.conn = new SshConnection({ role: 'client', sink: (p) => this.transport.send(p), windowSize: 64 * 1024 });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (this.ended !== undefined) throw new Error(`connection ended (${this.ended}) waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /**
   * Closes `ch` once sshd has sent both its EOF and its exit status; call it from an until()
   * probe. sshd sends the status when it reaps the child, before EOF (output still queued behind
   * the window) or after it: a CLOSE sent on EOF alone makes sshd drop the status, one sent on
   * the status alone can cut the output short.
   */
  closeOnceExited(ch: ChannelId): void {
    const conn = this.conn;
    if (conn === undefined || this.closedByUs.has(ch)) return;
    const eof = this.connEvents.some((e) => e.type === 'eof' && e.channel === ch);
    const exited = this.connEvents.some((e) => e.type === 'channel-request' && e.channel === ch && e.request.type === 'exit-status');
    if (!eof || !exited) return;
    this.closedByUs.add(ch);
    conn.close(ch);
  }

  authenticated(): Promise<AuthClientEvent> {
    return this.until('authentication', () => this.authEvents.find((e) => e.type === 'success' || e.type === 'exhausted'));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function ed25519Signer(key: TestKey) {
  return (_blob: Uint8Array, _alg: string, data: Uint8Array) => key.sign(data);
}

export function rsaSigner(key: RsaKey) {
  return (_blob: Uint8Array, alg: string, data: Uint8Array) => {
    const hash = alg === 'rsa-sha2-512' ? 'sha512' : 'sha256';
    return new SshWriter().string(alg).string(new Uint8Array(sign(hash, data, key.privateKey))).finish();
  };
}
