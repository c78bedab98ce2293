/**
 * Encoded terminal modes of a pty-req (RFC 4254 §8, RFC 8160 for IUTF8): a sequence of
 * (opcode byte, uint32 argument) pairs ended by TTY_OP_END. Opcodes 160–255 have no defined
 * argument layout, so (as §8 says) parsing stops at the first one.
 */
import { SshReader, SshWriter, WireError } from '../wire/index.js';

export const TTY_OP_END = 0;

/** Opcode → mnemonic for the opcodes RFC 4254 §8 and RFC 8160 define. */
export const TERMINAL_MODE_NAMES: Readonly<Record<number, string>> = {
  1: 'VINTR', 2: 'VQUIT', 3: 'VERASE', 4: 'VKILL', 5: 'VEOF', 6: 'VEOL', 7: 'VEOL2', 8: 'VSTART',
  9: 'VSTOP', 10: 'VSUSP', 11: 'VDSUSP', 12: 'VREPRINT', 13: 'VWERASE', 14: 'VLNEXT', 15: 'VFLUSH',
  16: 'VSWTCH', 17: 'VSTATUS', 18: 'VDISCARD',
  30: 'IGNPAR', 31: 'PARMRK', 32: 'INPCK', 33: 'ISTRIP', 34: 'INLCR', 35: 'IGNCR', 36: 'ICRNL',
  37: 'IUCLC', 38: 'IXON', 39: 'IXANY', 40: 'IXOFF', 41: 'IMAXBEL', 42: 'IUTF8',
  50: 'ISIG', 51: 'ICANON', 52: 'XCASE', 53: 'ECHO', 54: 'ECHOE', 55: 'ECHOK', 56: 'ECHONL',
  57: 'NOFLSH', 58: 'TOSTOP', 59: 'IEXTEN', 60: 'ECHOCTL', 61: 'ECHOKE', 62: 'PENDIN',
  70: 'OPOST', 71: 'OLCUC', 72: 'ONLCR', 73: 'OCRNL', 74: 'ONOCR', 75: 'ONLRET',
  90: 'CS7', 91: 'CS8', 92: 'PARENB', 93: 'PARODD',
  128: 'TTY_OP_ISPEED', 129: 'TTY_OP_OSPEED',
};

export interface TerminalMode {
  readonly opcode: number;
  /** The mnemonic, or undefined for an opcode the RFCs do not name (kept, not dropped). */
  readonly name: string | undefined;
  readonly value: number;
}

/** At most this many modes are kept; OpenSSH sends about 60. */
export const MAX_TERMINAL_MODES = 256;

export function decodeTerminalModes(encoded: Uint8Array): TerminalMode[] {
  const r = new SshReader(encoded);
  const modes: TerminalMode[] = [];
  while (!r.done) {
    const opcode = r.byte();
    if (opcode === TTY_OP_END || opcode >= 160) break;
    const value = r.uint32();
    if (modes.length >= MAX_TERMINAL_MODES) throw new WireError('too many terminal modes');
    modes.push({ opcode, name: TERMINAL_MODE_NAMES[opcode], value });
  }
  return modes;
}

export function encodeTerminalModes(modes: readonly TerminalMode[]): Uint8Array {
  const w = new SshWriter(modes.length * 5 + 1);
  for (const m of modes) {
    if (m.opcode <= 0 || m.opcode >= 160) throw new RangeError(`terminal mode opcode ${m.opcode} cannot be encoded`);
    w.byte(m.opcode).uint32(m.value);
  }
  w.byte(TTY_OP_END);
  return w.finish();
}

/** The value of a mode by mnemonic, if present. */
export function terminalModeValue(modes: readonly TerminalMode[], name: string): number | undefined {
  for (const m of modes) if (m.name === name) return m.value;
  return undefined;
}
