/**
 * The contract between the transport's packet framing and the cipher/MAC implementations
 * (RFC 4253 §6, PROTOCOL.chacha20poly1305, RFC 5647 as amended by OpenSSH, PROTOCOL §1.6 EtM).
 *
 * A sealer owns everything mode-specific about building a packet: the padding rule (whether
 * packet_length counts toward the block alignment), encryption of the length, and the MAC or
 * tag. The framing layer only hands it payloads and sequence numbers.
 */
export interface PacketSealer {
  readonly cipherName: string;
  readonly macName: string | null;
  /** Builds padding, encrypts and authenticates one packet (payload = `payload` then `body`); returns the bytes to send. */
  seal(seq: number, payload: Uint8Array, body?: Uint8Array): Uint8Array;
}

export interface PacketOpener {
  readonly cipherName: string;
  readonly macName: string | null;
  /** Bytes of ciphertext needed before packetLength() can be called (4, or the block size when the length is encrypted). */
  readonly headerLength: number;
  /** Bytes that follow packet_length + 4 on the wire (the MAC or AEAD tag). */
  readonly trailerLength: number;
  /**
   * Reads packet_length from the first headerLength bytes of a packet. May be called once per
   * packet; the caller bounds the value (256 KiB cap) before allocating anything.
   */
  packetLength(seq: number, header: Uint8Array): number;
  /**
   * Verifies and decrypts a whole packet (4 + packet_length + trailerLength bytes, with the
   * header bytes exactly as given to packetLength) and returns the payload (without padding).
   * `packet` is read-only and only valid during the call (it may be a view of received bytes or
   * a scratch buffer reused for the next packet), so the payload must not alias it.
   * Throws SshProtocolError(MAC_ERROR) on a bad MAC or tag, PROTOCOL_ERROR on bad padding.
   */
  open(seq: number, packet: Uint8Array): Uint8Array;
}

/** Key material for one direction, derived per RFC 4253 §7.2. */
export interface DirectionKeys {
  readonly iv: Uint8Array;
  readonly encKey: Uint8Array;
  readonly macKey: Uint8Array;
}
