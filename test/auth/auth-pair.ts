/** In-memory client↔server userauth pair with scripted drivers and real ed25519 keys (node:crypto). */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type AuthAnswer,
  AuthClient,
  type AuthClientEvent,
  type AuthClientOptions,
  type AuthServerEvent,
  type AuthServerOptions,
  AuthServer,
  routeMessage,
} from '../../src/auth/index.js';
import { encodeCertificateTbs } from '../../src/keys/certificate-codec.js';
import { defaultSignatureVerifier } from '../../src/keys/signature.js';
import { SshWriter } from '../../src/wire/index.js';

export interface TestKey {
  readonly blob: Uint8Array;
  readonly raw: Uint8Array;
  readonly privateKey: KeyObject;
  sign(data: Uint8Array): Uint8Array;
}

export function ed25519Key(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = new Uint8Array(Buffer.from(String(jwk.x), 'base64url'));
  const blob = new SshWriter().string('ssh-ed25519').string(raw).finish();
  return {
    blob,
    raw,
    privateKey,
    sign: (data) => new SshWriter().string('ssh-ed25519').string(new Uint8Array(sign(null, data, privateKey))).finish(),
  };
}

/** An OpenSSH user certificate for `key`, signed by `ca`. */
export function ed25519Cert(key: TestKey, ca: TestKey, principals: string[]): Uint8Array {
  const tbs = encodeCertificateTbs({
    nonce: new Uint8Array(32).fill(7),
    key: { type: 'ssh-ed25519', key: key.raw },
    serial: 1n,
    certType: 'user',
    keyId: 'test',
    principals,
    validAfter: 0n,
    validBefore: 0xffffffffffffffffn,
    criticalOptions: [],
    extensions: [],
    signatureKey: { type: 'ssh-ed25519', key: ca.raw },
  });
  return new SshWriter().raw(tbs).string(ca.sign(tbs)).finish();
}

export const SESSION_ID = new Uint8Array(32).fill(0x5a);
export const HOST_KEY = ed25519Key().blob;

export type Decide = (e: Extract<AuthServerEvent, { type: 'check' }>) => AuthAnswer | undefined;

export class AuthPair {
  readonly server: AuthServer;
  readonly client: AuthClient;
  readonly serverEvents: AuthServerEvent[] = [];
  readonly clientEvents: AuthClientEvent[] = [];
  /** Payloads in flight. */
  readonly toServer: Uint8Array[] = [];
  readonly toClient: Uint8Array[] = [];
  /** Ids of checks left unanswered by `decide`. */
  readonly held: Extract<AuthServerEvent, { type: 'check' }>[] = [];
  disconnected: { reason: number; message: string } | undefined;

  constructor(
    server: Partial<AuthServerOptions>,
    client: Partial<AuthClientOptions> & Pick<AuthClientOptions, 'credentials'>,
    private readonly decide: Decide,
    private readonly signer: (blob: Uint8Array, data: Uint8Array) => Uint8Array | null = () => null,
    private readonly prompter: (prompts: readonly string[]) => string[] | null = () => null,
  ) {
    this.server = new AuthServer({
      sink: (p) => this.toClient.push(p),
      sessionId: SESSION_ID,
      hostKeyBlob: HOST_KEY,
      verify: defaultSignatureVerifier,
      now: 0,
      ...server,
    });
    this.client = new AuthClient({
      sink: (p) => this.toServer.push(p),
      user: 'alice',
      sessionId: SESSION_ID,
      hostKeyBlob: HOST_KEY,
      ...client,
    });
  }

  onServer(events: AuthServerEvent[]): void {
    for (const e of events) {
      this.serverEvents.push(e);
      if (e.type === 'disconnect') this.disconnected = { reason: e.reason, message: e.message };
      if (e.type === 'check') {
        const answer = this.decide(e);
        if (answer === undefined) this.held.push(e);
        else this.onServer(this.server.respond(e.id, answer));
      }
    }
  }

  onClient(events: AuthClientEvent[]): void {
    for (const e of events) {
      this.clientEvents.push(e);
      if (e.type === 'sign') this.onClient(this.client.signed(e.id, this.signer(e.publicKeyBlob, e.data)));
      if (e.type === 'prompt') this.onClient(this.client.answerPrompts(e.id, this.prompter(e.prompts.map((p) => p.prompt))));
    }
  }

  /** Delivers payloads both ways until quiet, routing each through routeMessage like a driver would. */
  pump(): void {
    for (let i = 0; i < 1000; i++) {
      const s = this.toServer.shift();
      if (s !== undefined) {
        if (this.disconnected !== undefined) continue;
        const route = routeMessage(s, 'server', this.server.phase);
        if (route.route === 'disconnect') throw new Error(route.message);
        if (route.route === 'auth') this.onServer(this.server.handle(s));
        continue;
      }
      const c = this.toClient.shift();
      if (c !== undefined) {
        const route = routeMessage(c, 'client', this.client.phase);
        if (route.route === 'disconnect') throw new Error(route.message);
        if (route.route === 'auth') this.onClient(this.client.handle(c));
        continue;
      }
      return;
    }
    throw new Error('pump did not settle');
  }

  start(): this {
    this.client.start();
    this.pump();
    return this;
  }

  serverEventsOf<T extends AuthServerEvent['type']>(type: T): Extract<AuthServerEvent, { type: T }>[] {
    return this.serverEvents.filter((e): e is Extract<AuthServerEvent, { type: T }> => e.type === type);
  }

  clientEventsOf<T extends AuthClientEvent['type']>(type: T): Extract<AuthClientEvent, { type: T }>[] {
    return this.clientEvents.filter((e): e is Extract<AuthClientEvent, { type: T }> => e.type === type);
  }
}

