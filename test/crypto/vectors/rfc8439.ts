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


/** RFC 8439 Appendix A.1 (#1, #2) and A.4 (#1..#3): key streams and Poly1305 key generation. */
export const CHACHA_BLOCK_VECTORS: { name: string; key: string; nonce: string; counter: number; out: string }[] = [
  {
    name: 'A.1 #1',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    counter: 0,
    out:
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7' +
      'da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
  },
  {
    name: 'A.1 #2',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    counter: 1,
    out:
      '9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed' +
      '29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f',
  },
  {
    name: 'A.4 #1',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    counter: 0,
    out: '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7',
  },
  {
    name: 'A.4 #2',
    key: '00'.repeat(31) + '01',
    nonce: '000000000000000000000002',
    counter: 0,
    out: 'ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739',
  },
  {
    name: 'A.4 #3',
    key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0',
    nonce: '000000000000000000000002',
    counter: 0,
    out: '965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae',
  },
];

/** RFC 8439 §2.8.2 and Appendix A.5: AEAD_CHACHA20_POLY1305. */
export const AEAD_VECTORS: { name: string; key: string; nonce: string; aad: string; plaintext: string; ciphertext: string; tag: string }[] = [
  {
    name: '§2.8.2',
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    nonce: '070000004041424344454647',
    aad: '50515253c0c1c2c3c4c5c6c7',
    plaintext: Buffer.from(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    ).toString('hex'),
    ciphertext:
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
      '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
  {
    name: 'A.5',
    key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0',
    nonce: '000000000102030405060708',
    aad: 'f33388860000000000004e91',
    plaintext: Buffer.from(
      'Internet-Drafts are draft documents valid for a maximum of six months and may be updated, replaced, ' +
        'or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as reference ' +
        'material or to cite them other than as /\u201cwork in progress./\u201d',
    ).toString('hex'),
    ciphertext:
      '64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0' +
      'bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855' +
      '9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9' +
      '9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a' +
      '0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130' +
      '305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b',
    tag: 'eead9d67890cbb22392336fea1851f38',
  },
];
