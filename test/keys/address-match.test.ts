import { describe, expect, it } from 'vitest';
import { matchCidrList, matchPatternList, parseCidr, parseIpAddress, wildcardMatch } from '../../src/keys/address-match.js';

describe('addresses and patterns', () => {
  it('parses IPv4, IPv6 and v4-mapped addresses', () => {
    expect(parseIpAddress('10.1.2.3')).toEqual({ family: 4, bytes: Uint8Array.from([10, 1, 2, 3]) });
    expect(parseIpAddress('::ffff:10.1.2.3')).toEqual({ family: 4, bytes: Uint8Array.from([10, 1, 2, 3]) });
    expect(parseIpAddress('[::1]')?.bytes[15]).toBe(1);
    expect(parseIpAddress('fe80::1%eth0')?.family).toBe(6);
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9', '']) expect(parseIpAddress(bad)).toBeNull();
  });
  it('matches CIDR lists as certificate source-address does', () => {
    expect(matchCidrList('10.9.8.7', '192.168.0.0/16,10.0.0.0/8')).toBe('match');
    expect(matchCidrList('11.0.0.1', '10.0.0.0/8')).toBe('no-match');
    expect(matchCidrList('2001:db8::5', '2001:db8::/32')).toBe('match');
    expect(matchCidrList('2001:db9::5', '2001:db8::/32')).toBe('no-match');
    expect(matchCidrList('10.0.0.1', '10.0.0.1/8')).toBe('invalid'); // host bits set
    expect(matchCidrList('10.0.0.1', '10.0.0.0/33')).toBe('invalid');
    expect(matchCidrList('10.0.0.1', 'example.com')).toBe('invalid');
    expect(parseCidr('0.0.0.0/0')?.prefix).toBe(0);
    expect(matchCidrList('1.2.3.4', '0.0.0.0/0')).toBe('match');
  });
  it('matches wildcard pattern lists with negation', () => {
    expect(wildcardMatch('*.example.com', 'WWW.Example.com')).toBe(true);
    expect(wildcardMatch('db?', 'db12')).toBe(false);
    expect(wildcardMatch('a*b*c*d', `${'a'.repeat(5000)}x`)).toBe(false);
    expect(matchPatternList('*.example.com,!bad.example.com', 'bad.example.com', null)).toBe('negated');
    expect(matchPatternList('*.example.com,!bad.example.com', 'ok.example.com', null)).toBe('match');
    expect(matchPatternList('10.0.0.0/8', null, '10.3.3.3')).toBe('match');
    expect(matchPatternList('10.*', null, '10.3.3.3')).toBe('match');
    expect(matchPatternList('10.0.0.0/8', null, '11.3.3.3')).toBe('no-match');
  });
  it('never throws on random strings (fuzz)', () => {
    let s = 12345;
    const rnd = () => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s / 0x7fffffff;
    };
    const alphabet = '0123456789abcdef:./,!*?[]% x';
    for (let i = 0; i < 5000; i++) {
      const str = Array.from({ length: Math.floor(rnd() * 40) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      parseIpAddress(str);
      parseCidr(str);
      expect(['match', 'no-match', 'invalid']).toContain(matchCidrList(str.split(',')[0] ?? '', str));
      expect(['match', 'no-match', 'negated']).toContain(matchPatternList(str, str, str));
    }
  });
});
