/**
 * SSH_MSG_KEXINIT codec and algorithm negotiation (RFC 4253 §7.1). Negotiation is a pure
 * function of the two KEXINITs: for each kind, the first algorithm on the client's list that
 * the server also lists. AEAD ciphers carry their own integrity, so the MAC is then not
 * negotiated (RFC 5647 §5.1, as OpenSSH does it).
 */
import { DisconnectReason, Msg, SshProtocolError, SshReader, SshWriter } from '../wire/index.js';
import { PSEUDO_KEX } from './algorithms.js';
import { findCipher, isAuthenticatedCipher } from './ciphers/registry.js';
import type { NegotiatedAlgorithms } from './transport-types.js';

export interface KexInit {
  readonly cookie: Uint8Array;
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipherClientToServer: readonly string[];
  readonly cipherServerToClient: readonly string[];
  readonly macClientToServer: readonly string[];
  readonly macServerToClient: readonly string[];
  readonly compressionClientToServer: readonly string[];
  readonly compressionServerToClient: readonly string[];
  readonly languagesClientToServer: readonly string[];
  readonly languagesServerToClient: readonly string[];
  readonly firstKexPacketFollows: boolean;
}

/** Bound on each name-list (OpenSSH's lists are well under 2 KiB). */
const MAX_NAME_LIST = 8 * 1024;

export function encodeKexInit(k: KexInit): Uint8Array {
  const w = new SshWriter(1024).byte(Msg.KEXINIT).raw(k.cookie);
  w.nameList(k.kex).nameList(k.hostKey);
  w.nameList(k.cipherClientToServer).nameList(k.cipherServerToClient);
  w.nameList(k.macClientToServer).nameList(k.macServerToClient);
  w.nameList(k.compressionClientToServer).nameList(k.compressionServerToClient);
  w.nameList(k.languagesClientToServer).nameList(k.languagesServerToClient);
  return w.bool(k.firstKexPacketFollows).uint32(0).finish();
}

/** Parses a KEXINIT payload (message id included). Throws WireError on malformed input. */
export function parseKexInit(payload: Uint8Array): KexInit {
  const r = new SshReader(payload);
  if (r.byte() !== Msg.KEXINIT) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'not a KEXINIT');
  const cookie = r.raw(16);
  const lists: string[][] = [];
  for (let i = 0; i < 10; i++) lists.push(r.nameList(MAX_NAME_LIST));
  const firstKexPacketFollows = r.bool();
  r.uint32(); // reserved
  // RFC 4253 §7.1 allows no trailing data; OpenSSH ignores it, so we do too for interop
  const l = (i: number): string[] => lists[i] ?? [];
  return {
    cookie,
    kex: l(0),
    hostKey: l(1),
    cipherClientToServer: l(2),
    cipherServerToClient: l(3),
    macClientToServer: l(4),
    macServerToClient: l(5),
    compressionClientToServer: l(6),
    compressionServerToClient: l(7),
    languagesClientToServer: l(8),
    languagesServerToClient: l(9),
    firstKexPacketFollows,
  };
}

function firstCommon(what: string, client: readonly string[], server: readonly string[]): string {
  const s = new Set(server);
  for (const c of client) if (s.has(c)) return c;
  throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, `no matching ${what} algorithm (client: ${client.join(',')}; server: ${server.join(',')})`);
}

function negotiateMac(what: string, cipher: string, client: readonly string[], server: readonly string[]): string | null {
  const spec = findCipher(cipher);
  if (spec !== undefined && isAuthenticatedCipher(spec)) return null;
  return firstCommon(what, client, server);
}

/**
 * RFC 4253 §7.1. Pseudo-algorithms (ext-info-*, kex-strict-*) are skipped. The host key
 * algorithm is the first on the client's list the server lists: every method here only needs a
 * signature-capable host key, so that is the whole compatibility rule.
 */
export function negotiate(client: KexInit, server: KexInit): NegotiatedAlgorithms {
  const kex = firstCommon(
    'key exchange',
    client.kex.filter((k) => !PSEUDO_KEX.has(k)),
    server.kex.filter((k) => !PSEUDO_KEX.has(k)),
  );
  const hostKey = firstCommon('host key', client.hostKey, server.hostKey);
  const cipherClientToServer = firstCommon('client->server cipher', client.cipherClientToServer, server.cipherClientToServer);
  const cipherServerToClient = firstCommon('server->client cipher', client.cipherServerToClient, server.cipherServerToClient);
  return {
    kex,
    hostKey,
    cipherClientToServer,
    cipherServerToClient,
    macClientToServer: negotiateMac('client->server MAC', cipherClientToServer, client.macClientToServer, server.macClientToServer),
    macServerToClient: negotiateMac('server->client MAC', cipherServerToClient, client.macServerToClient, server.macServerToClient),
    compressionClientToServer: firstCommon('client->server compression', client.compressionClientToServer, server.compressionClientToServer),
    compressionServerToClient: firstCommon('server->client compression', client.compressionServerToClient, server.compressionServerToClient),
  };
}

/**
 * RFC 4253 §7: a guess is wrong when "server and client have different preferred algorithm",
 * i.e. the first KEX or first host key algorithms of the two lists differ (OpenSSH's
 * proposals_match, Dropbear likewise). A wrong guess's packet is ignored.
 */
export function isGuessRight(a: KexInit, b: KexInit): boolean {
  const firstKex = (k: KexInit): string | undefined => k.kex.find((n) => !PSEUDO_KEX.has(n));
  return firstKex(a) === firstKex(b) && a.hostKey[0] === b.hostKey[0];
}
