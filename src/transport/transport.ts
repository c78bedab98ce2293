/**
 * The sans-IO SSH transport machine (RFC 4253, RFC 8308, OpenSSH PROTOCOL strict KEX): bytes in
 * through receive(), bytes out through sink.write(), typed events through sink.event(). No
 * sockets, timers or promises: time enters through tick().
 *
 * Key exchange state for one exchange lives in KexRound (./kex-round.ts); this class owns the
 * version exchange, packet protection switching, sequence numbers, holding of higher-layer
 * payloads during an exchange, rekey triggers and the single teardown path.
 */
import type { CryptoBackend } from '../crypto/backend.js';
import { defaultBackend, defaultSymmetric } from '../crypto/index.js';
import type { SymmetricBackend } from '../crypto/symmetric.js';
import { concatBytes, DisconnectReason, disconnectReasonOf, Msg, SshProtocolError } from '../wire/index.js';
import { type BatchSealer, createOpener, createSealer } from './ciphers/index.js';
import { parseExtInfo } from './ext-info.js';
import { encodeDisconnect, encodeUnimplemented, parseDisconnect } from './kex-messages.js';
import { KexRound, type KexRoundHost, resolveOffer, type TransportOffer } from './kex-round.js';
import { PacketReader, type ReceivedPacket } from './packet-framing.js';
import type { DirectionKeys } from './packet-protection.js';
import { RekeyLimits } from './rekey-limits.js';
import type { NegotiatedAlgorithms, TransportEvent, TransportOptions, TransportSink } from './transport-types.js';
import { VersionReader, versionLine } from './version.js';

export type * from './transport-types.js';

/** Input held while the client decides on the host key; a server has no reason to send much then. */
const MAX_PAUSED_INPUT = 4 * 1024 * 1024;

type Phase = 'new' | 'version' | 'packets' | 'closed';

/** Raw bytes (the version line), or a packet to seal with the sealer and sequence number it was queued under. */
type Outgoing =
  | Uint8Array
  | {
      readonly sealer: BatchSealer;
      readonly seq: number;
      readonly payload: Uint8Array;
      readonly body: Uint8Array | undefined;
      readonly length: number;
    };

export class Transport {
  readonly role: 'client' | 'server';
  private readonly backend: CryptoBackend;
  private readonly symmetric: SymmetricBackend;
  private readonly offer: TransportOffer;
  private readonly options: TransportOptions;
  /** The narrow interface a key exchange round gets to the machine. */
  private readonly host: KexRoundHost;

  private phase: Phase = 'new';
  private readonly versionReader: VersionReader;
  private readonly ourVersion: string;
  private readonly ourVersionBytes: Uint8Array;
  private peerVersion = '';

  private readonly reader: PacketReader;
  private sealer: BatchSealer;
  private sendSeq = 0;
  /** Bytes and packets for the next sink.write, sealed at flush straight into one buffer. */
  private out: Outgoing[] = [];

  private round: KexRound | null = null;
  private completedKex = 0;
  private session: Uint8Array | undefined;
  private strict = false;
  private firstHostKey: Uint8Array | undefined;
  private paused = false;
  private pumping = false;

  private held: Uint8Array[] = [];
  private heldBytes = 0;

  private readonly limits: RekeyLimits;

  constructor(
    private readonly sink: TransportSink,
    options: TransportOptions,
  ) {
    this.options = options;
    this.role = options.role;
    this.backend = options.backend ?? defaultBackend;
    this.symmetric = options.symmetric ?? defaultSymmetric;
    this.offer = resolveOffer(options);
    const v = versionLine(options.softwareVersion ?? 'Gatehouse_0.1');
    this.ourVersion = v.version;
    this.ourVersionBytes = v.bytes;
    this.versionReader = new VersionReader(this.role === 'client', options.maxBannerLines ?? 1024);
    const none: DirectionKeys = { iv: new Uint8Array(0), encKey: new Uint8Array(0), macKey: new Uint8Array(0) };
    this.reader = new PacketReader(createOpener('none', null, none, this.symmetric));
    this.sealer = createSealer('none', null, none, this.symmetric);
    this.limits = new RekeyLimits(options);
    this.host = this.makeHost();
  }

  /** The exchange hash of the first key exchange (RFC 4253 §7.2), once it is known. */
  get sessionId(): Uint8Array | undefined {
    return this.session;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Payload bytes held by send() during a key exchange (for the driver's backpressure). */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** Received bytes not yet forming a whole packet (bounded by one packet, 256 KiB + MAC, except while a host key decision is pending). */
  get bufferedInput(): number {
    return this.reader.buffered;
  }

  /** True while a key exchange is in progress. */
  get isExchangingKeys(): boolean {
    return this.round !== null;
  }

  /** Sends the identification line and the first KEXINIT (RFC 4253 §4.2, §7.1). */
  start(): void {
    if (this.phase !== 'new') return;
    this.phase = 'version';
    this.out.push(this.ourVersionBytes);
    this.guard(() => this.beginKex());
    this.flush();
  }

  /**
   * Bytes from the peer. Never throws: errors end the connection with a DISCONNECT. `borrowed`:
   * the caller reuses `bytes` once this returns, so what the reader still holds of them (a
   * partial packet, or input held while paused) is copied before returning.
   */
  receive(bytes: Uint8Array, borrowed = false): void {
    if (this.phase === 'closed' || bytes.length === 0) return;
    if (this.phase === 'new') this.start();
    try {
      this.receiveBytes(bytes);
    } finally {
      if (borrowed) this.reader.ownInput(bytes);
    }
    this.flush();
  }

  private receiveBytes(bytes: Uint8Array): void {
    this.guard(() => {
      if (this.phase === 'version') {
        const r = this.versionReader.push(bytes);
        if (!r.done) return;
        this.peerVersion = r.version;
        this.phase = 'packets';
        this.emit({ type: 'peer-version', version: r.version });
        this.reader.push(r.rest);
      } else {
        this.reader.push(bytes);
      }
      if (this.paused && this.reader.buffered > MAX_PAUSED_INPUT) {
        throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'too much input while the host key is being checked');
      }
      this.pump();
    });
  }

  /**
   * A higher-layer message (id >= 5 outside 20–49, or IGNORE/DEBUG). Held during a key exchange
   * (see pendingBytes): the transport keeps a reference, so the caller must not reuse `payload`.
   * With `body`, the message is `payload` followed by `body` (channel data behind its header,
   * sealed without a concatenating copy); `body` is only read before send() returns, so the
   * caller may reuse it afterwards.
   */
  send(payload: Uint8Array, body?: Uint8Array): void {
    this.queueHigherLayer(payload, body);
    this.flush();
  }

  private queueHigherLayer(payload: Uint8Array, body?: Uint8Array): void {
    const id = payload[0];
    if (id === undefined || id === Msg.DISCONNECT || (id >= Msg.KEXINIT && id <= Msg.KEX_METHOD_LAST)) {
      throw new RangeError(`send() takes higher-layer messages, not message ${id ?? 'empty'}`);
    }
    if (this.phase === 'closed') return;
    if (this.round !== null || this.completedKex === 0) {
      const whole = body === undefined ? payload : concatBytes(payload, body);
      this.held.push(whole);
      this.heldBytes += whole.length;
      return;
    }
    this.guard(() => {
      this.sendPacket(payload, body);
      this.checkRekey();
    });
  }

  /** Client: the host key from the 'host-key' event is trusted; the exchange goes on. */
  acceptHostKey(): void {
    if (this.phase === 'closed' || this.round === null) return;
    const round = this.round;
    this.guard(() => {
      if (!round.acceptHostKey()) return;
      this.paused = false;
      if (!this.pumping) this.pump();
    });
    this.flush();
  }

  /** Client: the host key is not trusted; ends the connection (HOST_KEY_NOT_VERIFIABLE). */
  rejectHostKey(description: string): void {
    this.disconnect(DisconnectReason.HOST_KEY_NOT_VERIFIABLE, description);
  }

  /** Starts a key re-exchange (RFC 4253 §9) unless one is running or the first has not finished. */
  rekey(): void {
    if (this.phase !== 'packets' || this.round !== null || this.completedKex === 0) return;
    this.guard(() => this.beginKex());
    this.flush();
  }

  /** The driver's clock: starts a time-based rekey once the interval has passed since the last exchange. */
  tick(nowMs: number): void {
    if (this.phase === 'closed') return;
    if (this.limits.tick(nowMs, this.completedKex > 0 && this.round === null)) this.rekey();
  }

  /** Sends DISCONNECT (RFC 4253 §11.1) and closes. */
  disconnect(reason: number, description: string): void {
    if (this.phase === 'closed') return;
    this.close(reason, description, false, true);
  }

  // ---- internals ----

  private makeHost(): KexRoundHost {
    const t = this;
    return {
      role: t.role,
      backend: t.backend,
      offer: t.offer,
      get isInitialKex() {
        return t.completedKex === 0;
      },
      get ourVersion() {
        return t.ourVersion;
      },
      get peerVersion() {
        return t.peerVersion;
      },
      get initialHostKey() {
        return t.firstHostKey;
      },
      get sessionId() {
        return t.session;
      },
      randomBytes: (n) => (t.options.random !== undefined ? t.options.random(n) : t.backend.randomBytes(n)),
      sendPacket: (p) => t.sendPacket(p),
      setStrict: (strict) => {
        t.strict = strict;
      },
      setSessionId: (h) => {
        if (t.session === undefined) t.session = h;
      },
      setFirstHostKey: (blob) => {
        if (t.firstHostKey === undefined) t.firstHostKey = blob;
      },
      pauseForHostKey: () => {
        t.paused = true;
      },
      emit: (ev) => t.emit(ev),
      // after our NEWKEYS: outgoing packets use the new keys (and restart at 0 under strict KEX)
      switchOutgoing: (cipher, mac, keys) => {
        t.sealer = createSealer(cipher, mac, keys, t.symmetric);
        if (t.strict) t.sendSeq = 0;
      },
      switchIncoming: (cipher, mac, keys) => {
        t.reader.opener = createOpener(cipher, mac, keys, t.symmetric);
        if (t.strict) t.reader.seq = 0;
      },
      finishKex: (alg) => t.finishKex(alg),
    };
  }

  /** Both NEWKEYS are through: the exchange is complete; held payloads go out under the new keys. */
  private finishKex(algorithms: NegotiatedAlgorithms): void {
    const initial = this.completedKex === 0;
    this.completedKex++;
    this.round = null;
    this.limits.exchanged();
    const sessionId = this.session ?? new Uint8Array(0);
    this.emit({ type: 'kex-complete', sessionId, algorithms, initial, strict: this.strict });
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const p of held) {
      if (this.phase === 'closed') return;
      this.sendPacket(p);
    }
  }

  private beginKex(): void {
    this.round = new KexRound(this.host);
    this.round.sendKexInit();
  }

  private pump(): void {
    this.pumping = true;
    try {
      while (!this.paused && this.phase === 'packets') {
        const pkt = this.reader.next();
        if (pkt === null) break;
        this.handlePacket(pkt);
      }
    } finally {
      this.pumping = false;
    }
  }

  private handlePacket(pkt: ReceivedPacket): void {
    this.limits.received(pkt.wireLength);
    const p = pkt.payload;
    const id = p[0];
    if (id === undefined) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'empty packet payload');
    const round = this.round;
    // Strict KEX (OpenSSH PROTOCOL §1.10): during the initial exchange only KEX messages (and
    // DISCONNECT) may arrive; sequence numbers make a dropped or injected packet visible later.
    if (this.strict && this.completedKex === 0 && id !== Msg.DISCONNECT && !(id >= Msg.KEXINIT && id <= Msg.KEX_METHOD_LAST)) {
      throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `strict KEX violation: unexpected message ${id} during initial key exchange`);
    }
    switch (id) {
      case Msg.DISCONNECT: {
        const d = parseDisconnect(p);
        this.close(d.reason, d.description, true, false);
        return;
      }
      case Msg.IGNORE:
      case Msg.DEBUG:
      case Msg.UNIMPLEMENTED:
        return;
      case Msg.KEXINIT:
        if (round === null) this.beginKex();
        this.currentRound().onKexInit(p, pkt.seq);
        return;
      case Msg.NEWKEYS:
        if (round === null) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'NEWKEYS outside a key exchange');
        round.onNewKeys();
        return;
      case Msg.EXT_INFO:
        // RFC 8308 §2.4: only after the first NEWKEYS
        if (this.completedKex === 0 && (round === null || !round.receivedNewKeys)) {
          throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'EXT_INFO before NEWKEYS');
        }
        this.emit({ type: 'ext-info', extensions: parseExtInfo(p) });
        return;
      default:
        break;
    }
    if (id >= Msg.KEXINIT && id <= Msg.KEX_METHOD_LAST) {
      if (round?.peerKexInitReceived && id >= Msg.KEX_METHOD_FIRST) {
        round.onMethodMessage(p);
        return;
      }
      if (this.strict && this.completedKex === 0) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `unexpected message ${id}`);
      this.sendPacket(encodeUnimplemented(pkt.seq));
      return;
    }
    if (id < Msg.SERVICE_REQUEST) {
      this.sendPacket(encodeUnimplemented(pkt.seq));
      return;
    }
    // RFC 4253 §7.1: once the peer sent KEXINIT it sends nothing but transport messages until NEWKEYS
    if (round?.peerKexInitReceived && !round.receivedNewKeys) {
      throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `message ${id} during key exchange`);
    }
    if (this.completedKex === 0) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `message ${id} before key exchange`);
    this.emit({ type: 'payload', payload: p });
    this.checkRekey();
  }

  private currentRound(): KexRound {
    if (this.round === null) throw new Error('no key exchange round');
    return this.round;
  }

  /**
   * Queues one packet under the current sealer and sequence number; flush() seals it. The
   * payload must stay unchanged until then, which holds because every public method flushes
   * before it returns.
   */
  private sendPacket(payload: Uint8Array, body?: Uint8Array): void {
    const length = this.sealer.sealedLength(payload.length + (body?.length ?? 0));
    this.out.push({ sealer: this.sealer, seq: this.sendSeq, payload, body, length });
    this.sendSeq = (this.sendSeq + 1) >>> 0;
    if (this.sendSeq === 0 && this.strict && this.completedKex === 0) {
      throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'sequence number wrapped during initial key exchange');
    }
    this.limits.sent(length);
  }

  /** RFC 4253 §9 and RFC 4344 §3: rekey after a volume of data or packets in either direction. */
  private checkRekey(): void {
    if (this.round !== null || this.completedKex === 0 || this.phase !== 'packets') return;
    if (this.limits.volumeReached) this.beginKex();
  }

  private emit(ev: TransportEvent): void {
    // writes queued so far go out before the event, so a handler sees the wire in order
    this.flush();
    this.sink.event(ev);
  }

  /**
   * One sink.write for everything queued: packets sealed in order straight into one buffer, or,
   * when the sink takes parts and every sealer can produce them, one sink.writeParts with each
   * packet's parts as the cipher produced them (no packet buffer, no copy).
   */
  private flush(): void {
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
    if (this.sink.writeParts !== undefined && out.every(sealsToParts)) {
      const parts: Uint8Array[] = [];
      for (const o of out) {
        if (o instanceof Uint8Array) parts.push(o);
        else o.sealer.sealParts?.(o.seq, o.payload, parts, o.body);
      }
      this.sink.writeParts(parts);
      return;
    }
    const only = out[0];
    if (out.length === 1 && only !== undefined) {
      this.sink.write(only instanceof Uint8Array ? only : only.sealer.seal(only.seq, only.payload, only.body));
      return;
    }
    let total = 0;
    for (const o of out) total += o.length;
    const buf = Buffer.allocUnsafe(total);
    let offset = 0;
    for (const o of out) {
      if (o instanceof Uint8Array) {
        buf.set(o, offset);
        offset += o.length;
      } else {
        offset += o.sealer.sealInto(o.seq, o.payload, buf, offset, o.body);
      }
    }
    this.sink.write(offset === total ? buf : buf.subarray(0, offset));
  }

  /** Several higher-layer messages sealed into one sink.write (held, like send(), during a key exchange). */
  sendBatch(payloads: readonly Uint8Array[]): void {
    for (const p of payloads) this.queueHigherLayer(p);
    this.flush();
  }

  /** Runs a step; any error ends the connection through the one teardown path. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      if (this.phase === 'closed') return;
      const reason = disconnectReasonOf(err);
      const description = err instanceof Error ? err.message : String(err);
      this.close(reason, description, false, this.phase === 'packets');
    }
  }

  private close(reason: number, description: string, byPeer: boolean, sendDisconnect: boolean): void {
    if (this.phase === 'closed') return;
    if (sendDisconnect && this.phase !== 'new') {
      try {
        this.sendPacket(encodeDisconnect(reason, description));
      } catch {
        // the connection ends either way
      }
    }
    this.phase = 'closed';
    this.round = null;
    this.held = [];
    this.heldBytes = 0;
    this.paused = false;
    this.flush();
    try {
      this.sink.event({ type: 'disconnect', reason, description, byPeer });
    } catch {
      // a failing handler must not make receive() throw; the connection is closed already
    }
  }
}

function sealsToParts(o: Outgoing): boolean {
  return o instanceof Uint8Array || o.sealer.sealParts !== undefined;
}
