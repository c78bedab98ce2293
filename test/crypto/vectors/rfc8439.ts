/** Known-answer vectors from RFC 8439 (ChaCha20 and Poly1305 for IETF Protocols). */

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const IETF_TEXT =
  'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF ' +
  'Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an ' +
  '"IETF Contribution". Such statements include oral statements in IETF sessions, as well as written and ' +
  'electronic communications made at any time or place, which are addressed to';
export const JABBERWOCKY =
  "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";
const z16 = '00'.repeat(16);

/** RFC 8439 §2.5.2 and Appendix A.3 (test vectors #1..#11): key (r || s), message, tag. */
export const POLY1305_VECTORS: { name: string; key: string; msg: Uint8Array; tag: string }[] = [
  {
    name: '§2.5.2',
    key: '85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b',
    msg: new TextEncoder().encode('Cryptographic Forum Research Group'),
    tag: 'a8061dc1305136c6c22b8baf0c0127a9',
  },
  { name: 'A.3 #1', key: '00'.repeat(32), msg: new Uint8Array(64), tag: z16 },
  { name: 'A.3 #2', key: z16 + '36e5f6b5c5e06070f0efca96227a863e', msg: new TextEncoder().encode(IETF_TEXT), tag: '36e5f6b5c5e06070f0efca96227a863e' },
  { name: 'A.3 #3', key: '36e5f6b5c5e06070f0efca96227a863e' + z16, msg: new TextEncoder().encode(IETF_TEXT), tag: 'f3477e7cd95417af89a6b8794c310cf0' },
  {
    name: 'A.3 #4',
    key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0',
    msg: new TextEncoder().encode(JABBERWOCKY),
    tag: '4541669a7eaaee61e708dc7cbcc5eb62',
  },
  { name: 'A.3 #5', key: '02' + '00'.repeat(31), msg: hex('ff'.repeat(16)), tag: '03' + '00'.repeat(15) },
  { name: 'A.3 #6', key: '02' + '00'.repeat(15) + 'ff'.repeat(16), msg: hex('02' + '00'.repeat(15)), tag: '03' + '00'.repeat(15) },
  {
    name: 'A.3 #7',
    key: '01' + '00'.repeat(31),
    msg: hex('ff'.repeat(16) + 'f0' + 'ff'.repeat(15) + '11' + '00'.repeat(15)),
    tag: '05' + '00'.repeat(15),
  },
  {
    name: 'A.3 #8',
    key: '01' + '00'.repeat(31),
    msg: hex('ff'.repeat(16) + 'fb' + 'fe'.repeat(15) + '01'.repeat(16)),
    tag: z16,
  },
  { name: 'A.3 #9', key: '02' + '00'.repeat(31), msg: hex('fd' + 'ff'.repeat(15)), tag: 'fa' + 'ff'.repeat(15) },
  {
    name: 'A.3 #10',
    key: '0100000000000000040000000000000000000000000000000000000000000000',
    msg: hex(
      'e33594d7505e43b90000000000000000 3394d7505e4379cd0100000000000000 00000000000000000000000000000000 01000000000000000000000000000000',
    ),
    tag: '14000000000000005500000000000000',
  },
  {
    name: 'A.3 #11',
    key: '0100000000000000040000000000000000000000000000000000000000000000',
    msg: hex('e33594d7505e43b90000000000000000 3394d7505e4379cd0100000000000000 00000000000000000000000000000000'),
    tag: '13000000000000000000000000000000',
  },
];

