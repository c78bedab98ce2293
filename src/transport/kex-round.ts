/**
 * One key exchange round (RFC 4253 §7–§8), from our KEXINIT to both NEWKEYS, driving any method
 * through the KEM shape of ./kex-methods.ts. The transport machine feeds it the KEX-range
 * messages and gives it a narrow host interface to send packets and switch keys.
 */
import type { CryptoBackend } from '../crypto/backend.js';
import { DisconnectReason, type DisconnectReasonCode, SshProtocolError, bytesEqual } from '../wire/index.js';
import {
  AlgorithmConfigError,
  EXT_INFO_C,
  KEX_STRICT_C,
  KEX_STRICT_S,
  type Role,
  checkPreferences,
  defaultAlgorithms,
  supportedAlgorithms,
} from './algorithms.js';
import { encodeExtInfo } from './ext-info.js';
import { deriveSessionKeys, encodeSharedSecret, exchangeHash, type SessionKeys } from './kex-hash.js';
import { KEX_INIT, KEX_REPLY, NEWKEYS_PAYLOAD, encodeKexInitValue, encodeKexReply, parseKexInitValue, parseKexReply } from './kex-messages.js';
import { type KexClientState, type KexMethod, findKexMethod } from './kex-methods.js';
import { type KexInit, encodeKexInit, isGuessRight, negotiate, parseKexInit } from './kexinit.js';
import type { HostKeySigner, SignatureVerifier } from './host-key.js';
import type { DirectionKeys } from './packet-protection.js';
import type { NegotiatedAlgorithms, TransportEvent, TransportOptions } from './transport-types.js';

/** What we offer, resolved once from the options (RFC 4253 §7.1 lists, in preference order). */
export interface TransportOffer {
  readonly kex: readonly string[];
  readonly hostKey: readonly string[];
  readonly cipher: readonly string[];
  readonly mac: readonly string[];
  readonly compression: readonly string[];
  readonly strictKex: boolean;
  readonly extInfo: boolean;
  readonly guessKex: boolean;
  readonly hostKeys: readonly HostKeySigner[];
  readonly verifySignature: SignatureVerifier | undefined;
  readonly serverSigAlgs: readonly string[];
}

export const DEFAULT_SERVER_SIG_ALGS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

/** Validates the options and settles the offer; configuration mistakes throw AlgorithmConfigError. */
export function resolveOffer(o: TransportOptions): TransportOffer {
  const legacy = o.legacy ?? false;
  const role = o.role;
  const pick = (kind: 'kex' | 'cipher' | 'mac' | 'compression', given: readonly string[] | undefined): string[] =>
    given === undefined ? defaultAlgorithms(kind, role) : checkPreferences(kind, given, legacy);
  const hostKeys = o.hostKeys ?? [];
  let hostKey: string[];
  if (role === 'server') {
    if (hostKeys.length === 0) throw new AlgorithmConfigError('a server needs at least one host key');
    const served = new Set(hostKeys.flatMap((k) => k.algorithms));
    const prefs = o.algorithms?.hostKey;
    hostKey = (prefs === undefined ? defaultAlgorithms('host-key', role) : checkPreferences('host-key', prefs, legacy)).filter((a) => served.has(a));
    // no explicit preference and none of the clean defaults served: offer what the keys can do
    if (prefs === undefined && hostKey.length === 0) hostKey = supportedAlgorithms('host-key', legacy).filter((a) => served.has(a));
    if (hostKey.length === 0) throw new AlgorithmConfigError('no offered host key algorithm is served by the host keys');
  } else {
    if (o.verifySignature === undefined) throw new AlgorithmConfigError('a client needs verifySignature');
    hostKey = o.algorithms?.hostKey === undefined ? defaultAlgorithms('host-key', role) : checkPreferences('host-key', o.algorithms.hostKey, legacy);
  }
  return {
    kex: pick('kex', o.algorithms?.kex),
    hostKey,
    cipher: pick('cipher', o.algorithms?.cipher),
    mac: pick('mac', o.algorithms?.mac),
    compression: pick('compression', o.algorithms?.compression),
    strictKex: o.strictKex ?? true,
    extInfo: o.extInfo ?? true,
    guessKex: o.guessKex ?? false,
    hostKeys,
    verifySignature: o.verifySignature,
    serverSigAlgs: o.serverSigAlgs ?? DEFAULT_SERVER_SIG_ALGS,
  };
}

/** The machine as a round sees it. */
export interface KexRoundHost {
  readonly role: Role;
  readonly backend: CryptoBackend;
  readonly offer: TransportOffer;
  readonly isInitialKex: boolean;
  readonly ourVersion: string;
  readonly peerVersion: string;
  readonly initialHostKey: Uint8Array | undefined;
  readonly sessionId: Uint8Array | undefined;
  randomBytes(n: number): Uint8Array;
  sendPacket(payload: Uint8Array): void;
  setStrict(strict: boolean): void;
  setSessionId(h: Uint8Array): void;
  setFirstHostKey(blob: Uint8Array): void;
  pauseForHostKey(): void;
  emit(ev: TransportEvent): void;
  switchOutgoing(cipher: string, mac: string | null, keys: DirectionKeys): void;
  switchIncoming(cipher: string, mac: string | null, keys: DirectionKeys): void;
  finishKex(algorithms: NegotiatedAlgorithms): void;
}

function kexError(reason: DisconnectReasonCode, msg: string): SshProtocolError {
  return new SshProtocolError(reason, msg);
}

export class KexRound {
  private ourInit: KexInit | undefined;
  private ourInitPayload: Uint8Array | undefined;
  private peerInit: KexInit | undefined;
  private peerInitPayload: Uint8Array | undefined;
  private alg: NegotiatedAlgorithms | undefined;
  private method: KexMethod | undefined;
  private clientState: KexClientState | undefined;
  private guessed = false;
  private ignoreNextPacket = false;
  private replied = false;
  private keys: SessionKeys | undefined;
  private awaitingHostKey = false;
  private peerWantsExtInfo = false;
  sentNewKeys = false;
  receivedNewKeys = false;

  constructor(private readonly host: KexRoundHost) {}

  get peerKexInitReceived(): boolean {
    return this.peerInit !== undefined;
  }

  sendKexInit(): void {
    const h = this.host;
    const o = h.offer;
    const pseudo: string[] = [];
    if (h.isInitialKex) {
      // ext-info-c and the strict-KEX markers belong in the first KEXINIT only (RFC 8308 §2.1; PROTOCOL §1.10)
      if (h.role === 'client' && o.extInfo) pseudo.push(EXT_INFO_C);
      if (o.strictKex) pseudo.push(h.role === 'client' ? KEX_STRICT_C : KEX_STRICT_S);
    }
    const guess = h.role === 'client' && o.guessKex;
    const init: KexInit = {
      cookie: h.randomBytes(16),
      kex: [...o.kex, ...pseudo],
      hostKey: o.hostKey,
      cipherClientToServer: o.cipher,
      cipherServerToClient: o.cipher,
      macClientToServer: o.mac,
      macServerToClient: o.mac,
      compressionClientToServer: o.compression,
      compressionServerToClient: o.compression,
      languagesClientToServer: [],
      languagesServerToClient: [],
      firstKexPacketFollows: guess,
    };
    this.ourInit = init;
    this.ourInitPayload = encodeKexInit(init);
    h.sendPacket(this.ourInitPayload);
    if (guess) {
      // RFC 4253 §7: the guessed packet uses our first preference
      const m = findKexMethod(o.kex[0] ?? '');
      if (m === undefined) throw new AlgorithmConfigError('no key exchange method to guess');
      this.method = m;
      this.clientState = m.keypair(h.backend);
      this.guessed = true;
      h.sendPacket(encodeKexInitValue(m, this.clientState.publicValue));
    }
  }

  onKexInit(payload: Uint8Array, seq: number): void {
    const h = this.host;
    if (this.peerInit !== undefined) throw kexError(DisconnectReason.PROTOCOL_ERROR, 'second KEXINIT in one key exchange');
    const ours = this.ourInit;
    if (ours === undefined) throw new Error('KEXINIT before ours was sent');
    const peer = parseKexInit(payload);
    this.peerInit = peer;
    this.peerInitPayload = payload.slice();
    if (h.isInitialKex) {
      const strict = h.offer.strictKex && peer.kex.includes(h.role === 'client' ? KEX_STRICT_S : KEX_STRICT_C);
      h.setStrict(strict);
      if (strict && seq !== 0) throw kexError(DisconnectReason.PROTOCOL_ERROR, 'strict KEX violation: KEXINIT was not the first packet');
      this.peerWantsExtInfo = h.role === 'server' && peer.kex.includes(EXT_INFO_C);
    }
    const alg = h.role === 'client' ? negotiate(ours, peer) : negotiate(peer, ours);
    const method = findKexMethod(alg.kex);
    if (method === undefined) throw kexError(DisconnectReason.KEY_EXCHANGE_FAILED, `no implementation of ${alg.kex}`);
    this.alg = alg;
    // RFC 4253 §7: a wrong guess's packet is ignored
    if (peer.firstKexPacketFollows && !isGuessRight(peer, ours)) this.ignoreNextPacket = true;
    if (h.role === 'client') {
      const keep = this.guessed && isGuessRight(ours, peer) && this.method === method;
      if (!keep) {
        this.clientState = method.keypair(h.backend);
        h.sendPacket(encodeKexInitValue(method, this.clientState.publicValue));
      }
    }
    this.method = method;
  }

  onMethodMessage(payload: Uint8Array): void {
    if (this.ignoreNextPacket) {
      this.ignoreNextPacket = false;
      return;
    }
    if (this.host.role === 'server') this.serverReply(payload);
    else this.clientFinish(payload);
  }

  private need(): { alg: NegotiatedAlgorithms; method: KexMethod; ourInit: Uint8Array; peerInit: Uint8Array } {
    const { alg, method, ourInitPayload, peerInitPayload } = this;
    if (alg === undefined || method === undefined || ourInitPayload === undefined || peerInitPayload === undefined) {
      throw kexError(DisconnectReason.PROTOCOL_ERROR, 'key exchange message before KEXINIT');
    }
    return { alg, method, ourInit: ourInitPayload, peerInit: peerInitPayload };
  }

  private serverReply(payload: Uint8Array): void {
    const h = this.host;
    const { alg, method, ourInit, peerInit } = this.need();
    if (payload[0] !== KEX_INIT || this.replied) throw kexError(DisconnectReason.PROTOCOL_ERROR, `unexpected key exchange message ${payload[0]}`);
    const clientValue = parseKexInitValue(method, payload);
    const { reply, sharedSecret } = method.encapsulate(h.backend, clientValue);
    const signer = h.offer.hostKeys.find((k) => k.algorithms.includes(alg.hostKey));
    if (signer === undefined) throw kexError(DisconnectReason.KEY_EXCHANGE_FAILED, `no host key for ${alg.hostKey}`);
    const hostKeyBlob = signer.publicKeyBlob(alg.hostKey);
    const hash = exchangeHash(h.backend, method, {
      clientVersion: h.peerVersion,
      serverVersion: h.ourVersion,
      clientKexInit: peerInit,
      serverKexInit: ourInit,
      hostKeyBlob,
      clientValue,
      serverValue: reply,
      sharedSecret,
    });
    h.setSessionId(hash);
    const signature = signer.sign(alg.hostKey, hash);
    h.sendPacket(encodeKexReply(method, { hostKeyBlob, serverValue: reply, signature }));
    this.keys = this.derive(method, sharedSecret, hash, alg);
    this.replied = true;
    this.sendNewKeys();
  }

  private clientFinish(payload: Uint8Array): void {
    const h = this.host;
    const { alg, method, ourInit, peerInit } = this.need();
    const state = this.clientState;
    if (payload[0] !== KEX_REPLY || this.replied || state === undefined) {
      throw kexError(DisconnectReason.PROTOCOL_ERROR, `unexpected key exchange message ${payload[0]}`);
    }
    const r = parseKexReply(method, payload);
    const sharedSecret = state.decapsulate(r.serverValue);
    const hash = exchangeHash(h.backend, method, {
      clientVersion: h.ourVersion,
      serverVersion: h.peerVersion,
      clientKexInit: ourInit,
      serverKexInit: peerInit,
      hostKeyBlob: r.hostKeyBlob,
      clientValue: state.publicValue,
      serverValue: r.serverValue,
      sharedSecret,
    });
    const verify = h.offer.verifySignature;
    if (verify === undefined || !verify(alg.hostKey, r.hostKeyBlob, r.signature, hash)) {
      throw kexError(DisconnectReason.KEY_EXCHANGE_FAILED, `${alg.hostKey} signature over the exchange hash does not verify`);
    }
    h.setSessionId(hash);
    this.keys = this.derive(method, sharedSecret, hash, alg);
    this.replied = true;
    if (h.isInitialKex) {
      h.setFirstHostKey(r.hostKeyBlob);
      this.awaitingHostKey = true;
      h.pauseForHostKey();
      h.emit({ type: 'host-key', algorithm: alg.hostKey, publicKey: r.hostKeyBlob });
      return;
    }
    const first = h.initialHostKey;
    if (first === undefined || !bytesEqual(first, r.hostKeyBlob)) {
      throw kexError(DisconnectReason.HOST_KEY_NOT_VERIFIABLE, 'server host key changed during rekey');
    }
    this.sendNewKeys();
  }

  /** Client: the driver accepted the host key. Returns false when nothing was waiting. */
  acceptHostKey(): boolean {
    if (!this.awaitingHostKey) return false;
    this.awaitingHostKey = false;
    this.sendNewKeys();
    return true;
  }

  onNewKeys(): void {
    const { alg } = this.need();
    const keys = this.keys;
    if (keys === undefined || this.receivedNewKeys || this.awaitingHostKey) throw kexError(DisconnectReason.PROTOCOL_ERROR, 'unexpected NEWKEYS');
    this.receivedNewKeys = true;
    if (this.host.role === 'client') this.host.switchIncoming(alg.cipherServerToClient, alg.macServerToClient, keys.serverToClient);
    else this.host.switchIncoming(alg.cipherClientToServer, alg.macClientToServer, keys.clientToServer);
    this.maybeFinish(alg);
  }

  private derive(method: KexMethod, k: Uint8Array, hash: Uint8Array, alg: NegotiatedAlgorithms): SessionKeys {
    const sessionId = this.host.sessionId ?? hash;
    return deriveSessionKeys(this.host.backend, method, encodeSharedSecret(method, k), hash, sessionId, alg);
  }

  private sendNewKeys(): void {
    const h = this.host;
    const { alg } = this.need();
    const keys = this.keys;
    if (keys === undefined) throw new Error('NEWKEYS before keys');
    h.sendPacket(NEWKEYS_PAYLOAD);
    if (h.role === 'client') h.switchOutgoing(alg.cipherClientToServer, alg.macClientToServer, keys.clientToServer);
    else h.switchOutgoing(alg.cipherServerToClient, alg.macServerToClient, keys.serverToClient);
    this.sentNewKeys = true;
    // RFC 8308 §2.4: the server's EXT_INFO is the first message after its first NEWKEYS
    if (h.role === 'server' && h.isInitialKex && this.peerWantsExtInfo && h.offer.extInfo) {
      h.sendPacket(encodeExtInfo(new Map([['server-sig-algs', h.offer.serverSigAlgs.join(',')]])));
    }
    this.maybeFinish(alg);
  }

  private maybeFinish(alg: NegotiatedAlgorithms): void {
    if (this.sentNewKeys && this.receivedNewKeys) this.host.finishKex(alg);
  }
}

