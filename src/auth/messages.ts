/**
 * Messages of the service request (RFC 4253 §10) and user authentication protocols (RFC 4252,
 * RFC 4256 keyboard-interactive, OpenSSH PROTOCOL §2.3.2 publickey-hostbound) as a literal
 * union with bounds-checked codecs.
 *
 * Message 60 means PK_OK, INFO_REQUEST or PASSWD_CHANGEREQ depending on the method in
 * progress (RFC 4252 §7, §8; RFC 4256 §3.2): the decoder must be told which one to expect.
 */
import { Msg, SshReader, SshWriter, WireError } from '../wire/index.js';

export const MAX_USER = 1024;
export const MAX_NAME = 256;
export const MAX_TEXT = 8 * 1024;
export const MAX_PASSWORD = 8 * 1024;
export const MAX_KEY_BLOB = 16 * 1024;
export const MAX_SIGNATURE = 16 * 1024;
/** Prompts per INFO_REQUEST / responses per INFO_RESPONSE. */
export const MAX_PROMPTS = 32;
export const MAX_RESPONSE = 8 * 1024;

export const HOSTBOUND_METHOD = 'publickey-hostbound-v00@openssh.com';

export interface KbdPrompt {
  readonly prompt: string;
  readonly echo: boolean;
}

/** The method-specific part of SSH_MSG_USERAUTH_REQUEST. */
export type AuthMethodRequest =
  | { readonly method: 'none' }
  | {
      readonly method: 'publickey';
      readonly algorithm: string;
      readonly publicKey: Uint8Array;
      /** Absent for a query (RFC 4252 §7 "without signature"). */
      readonly signature: Uint8Array | undefined;
    }
  | {
      readonly method: typeof HOSTBOUND_METHOD;
      readonly algorithm: string;
      readonly publicKey: Uint8Array;
      /** The server host key the client binds this request to. */
      readonly hostKey: Uint8Array;
      readonly signature: Uint8Array | undefined;
    }
  | { readonly method: 'password'; readonly password: string; readonly newPassword: string | undefined }
  | { readonly method: 'keyboard-interactive'; readonly language: string; readonly submethods: string }
  | { readonly method: 'unknown'; readonly name: string; readonly data: Uint8Array };

export type AuthMessage =
  | { readonly type: 'service-request'; readonly service: string }
  | { readonly type: 'service-accept'; readonly service: string }
  | { readonly type: 'userauth-request'; readonly user: string; readonly service: string; readonly request: AuthMethodRequest }
  | { readonly type: 'userauth-failure'; readonly methods: readonly string[]; readonly partialSuccess: boolean }
  | { readonly type: 'userauth-success' }
  | { readonly type: 'userauth-banner'; readonly message: string; readonly language: string }
  | { readonly type: 'pk-ok'; readonly algorithm: string; readonly publicKey: Uint8Array }
  | { readonly type: 'passwd-changereq'; readonly prompt: string; readonly language: string }
  | {
      readonly type: 'info-request';
      readonly name: string;
      readonly instruction: string;
      readonly language: string;
      readonly prompts: readonly KbdPrompt[];
    }
  | { readonly type: 'info-response'; readonly responses: readonly string[] };

export type AuthMessageType = AuthMessage['type'];
/** How to read message 60, given the method in progress. */
export type Msg60Meaning = 'pk-ok' | 'info-request' | 'passwd-changereq';

export function authMethodName(r: AuthMethodRequest): string {
  return r.method === 'unknown' ? r.name : r.method;
}

function readMethod(method: string, r: SshReader): AuthMethodRequest {
  switch (method) {
    case 'none':
      return { method: 'none' };
    case 'publickey': {
      const hasSig = r.bool();
      const algorithm = r.ascii(MAX_NAME);
      const publicKey = r.bytes(MAX_KEY_BLOB);
      const signature = hasSig ? r.bytes(MAX_SIGNATURE) : undefined;
      return { method: 'publickey', algorithm, publicKey, signature };
    }
    case HOSTBOUND_METHOD: {
      const hasSig = r.bool();
      const algorithm = r.ascii(MAX_NAME);
      const publicKey = r.bytes(MAX_KEY_BLOB);
      const hostKey = r.bytes(MAX_KEY_BLOB);
      const signature = hasSig ? r.bytes(MAX_SIGNATURE) : undefined;
      return { method: HOSTBOUND_METHOD, algorithm, publicKey, hostKey, signature };
    }
    case 'password': {
      const change = r.bool();
      const password = r.string(MAX_PASSWORD);
      const newPassword = change ? r.string(MAX_PASSWORD) : undefined;
      return { method: 'password', password, newPassword };
    }
    case 'keyboard-interactive':
      return { method: 'keyboard-interactive', language: r.string(MAX_NAME), submethods: r.string(MAX_TEXT) };
    default:
      return { method: 'unknown', name: method, data: r.rest() };
  }
}

/**
 * Decodes one service/userauth payload (ids 5, 6, 50–79). `msg60` says how to read id 60;
 * without it, id 60 is an error. Throws WireError on anything malformed.
 */
export function decodeAuthMessage(payload: Uint8Array, msg60?: Msg60Meaning): AuthMessage {
  const r = new SshReader(payload);
  const id = r.byte();
  let m: AuthMessage;
  switch (id) {
    case Msg.SERVICE_REQUEST:
      m = { type: 'service-request', service: r.ascii(MAX_NAME) };
      break;
    case Msg.SERVICE_ACCEPT:
      m = { type: 'service-accept', service: r.ascii(MAX_NAME) };
      break;
    case Msg.USERAUTH_REQUEST: {
      const user = r.string(MAX_USER);
      const service = r.ascii(MAX_NAME);
      const method = r.ascii(MAX_NAME);
      m = { type: 'userauth-request', user, service, request: readMethod(method, r) };
      break;
    }
    case Msg.USERAUTH_FAILURE:
      m = { type: 'userauth-failure', methods: r.nameList(MAX_TEXT), partialSuccess: r.bool() };
      break;
    case Msg.USERAUTH_SUCCESS:
      m = { type: 'userauth-success' };
      break;
    case Msg.USERAUTH_BANNER: {
      const message = r.string(MAX_TEXT * 4);
      // Some servers omit the language tag.
      const language = r.done ? '' : r.ascii(MAX_NAME);
      m = { type: 'userauth-banner', message, language };
      break;
    }
    case 60:
      switch (msg60) {
        case 'pk-ok':
          m = { type: 'pk-ok', algorithm: r.ascii(MAX_NAME), publicKey: r.bytes(MAX_KEY_BLOB) };
          break;
        case 'passwd-changereq':
          m = { type: 'passwd-changereq', prompt: r.string(MAX_TEXT), language: r.ascii(MAX_NAME) };
          break;
        case 'info-request': {
          const name = r.string(MAX_TEXT);
          const instruction = r.string(MAX_TEXT);
          const language = r.ascii(MAX_NAME);
          const n = r.uint32();
          if (n > MAX_PROMPTS) throw new WireError(`INFO_REQUEST with ${n} prompts`);
          const prompts: KbdPrompt[] = [];
          for (let i = 0; i < n; i++) prompts.push({ prompt: r.string(MAX_TEXT), echo: r.bool() });
          m = { type: 'info-request', name, instruction, language, prompts };
          break;
        }
        case undefined:
          throw new WireError('message 60 outside publickey, password or keyboard-interactive');
        default: {
          const never: never = msg60;
          throw new Error(`unhandled message 60 meaning ${String(never)}`);
        }
      }
      break;
    case Msg.USERAUTH_INFO_RESPONSE: {
      const n = r.uint32();
      if (n > MAX_PROMPTS) throw new WireError(`INFO_RESPONSE with ${n} responses`);
      const responses: string[] = [];
      for (let i = 0; i < n; i++) responses.push(r.string(MAX_RESPONSE));
      m = { type: 'info-response', responses };
      break;
    }
    default:
      throw new WireError(`message ${id} is not a service or userauth message`);
  }
  r.expectEnd(m.type);
  return m;
}

function writeMethod(w: SshWriter, req: AuthMethodRequest): void {
  switch (req.method) {
    case 'none':
      return;
    case 'publickey':
      w.bool(req.signature !== undefined).string(req.algorithm).string(req.publicKey);
      if (req.signature !== undefined) w.string(req.signature);
      return;
    case HOSTBOUND_METHOD:
      w.bool(req.signature !== undefined).string(req.algorithm).string(req.publicKey).string(req.hostKey);
      if (req.signature !== undefined) w.string(req.signature);
      return;
    case 'password':
      w.bool(req.newPassword !== undefined).string(req.password);
      if (req.newPassword !== undefined) w.string(req.newPassword);
      return;
    case 'keyboard-interactive':
      w.string(req.language).string(req.submethods);
      return;
    case 'unknown':
      w.raw(req.data);
      return;
    default: {
      const never: never = req;
      throw new Error(`unhandled auth method ${String(never)}`);
    }
  }
}

export function encodeAuthMessage(m: AuthMessage): Uint8Array {
  const w = new SshWriter(128);
  switch (m.type) {
    case 'service-request':
      w.byte(Msg.SERVICE_REQUEST).string(m.service);
      break;
    case 'service-accept':
      w.byte(Msg.SERVICE_ACCEPT).string(m.service);
      break;
    case 'userauth-request':
      w.byte(Msg.USERAUTH_REQUEST).string(m.user).string(m.service).string(authMethodName(m.request));
      writeMethod(w, m.request);
      break;
    case 'userauth-failure':
      w.byte(Msg.USERAUTH_FAILURE).nameList(m.methods).bool(m.partialSuccess);
      break;
    case 'userauth-success':
      w.byte(Msg.USERAUTH_SUCCESS);
      break;
    case 'userauth-banner':
      w.byte(Msg.USERAUTH_BANNER).string(m.message).string(m.language);
      break;
    case 'pk-ok':
      w.byte(Msg.USERAUTH_PK_OK).string(m.algorithm).string(m.publicKey);
      break;
    case 'passwd-changereq':
      w.byte(60).string(m.prompt).string(m.language);
      break;
    case 'info-request':
      w.byte(Msg.USERAUTH_INFO_REQUEST).string(m.name).string(m.instruction).string(m.language);
      w.uint32(m.prompts.length);
      for (const p of m.prompts) w.string(p.prompt).bool(p.echo);
      break;
    case 'info-response':
      w.byte(Msg.USERAUTH_INFO_RESPONSE).uint32(m.responses.length);
      for (const s of m.responses) w.string(s);
      break;
    default: {
      const never: never = m;
      throw new Error(`unhandled auth message ${String(never)}`);
    }
  }
  return w.finish();
}
