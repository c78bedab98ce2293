import { describe, expect, it } from 'vitest';
import { isSensitiveAddress } from '../../src/gateway/destination-guard.js';
import { RoutingNameError, parseRoutingName, sameRoutingName } from '../../src/gateway/routing-name.js';

describe('parseRoutingName', () => {
  it('reads the three forms', () => {
    expect(parseRoutingName('alice')).toEqual({ kind: 'gateway-user', user: 'alice' });
    expect(parseRoutingName('root@db1')).toEqual({ kind: 'target', login: 'root', target: 'db1', port: undefined });
    expect(parseRoutingName('postgres@DB1.internal:2200')).toEqual({ kind: 'target', login: 'postgres', target: 'db1.internal', port: 2200 });
  });

  it.each([
    ['', 'empty'],
    ['root@db1@evil', 'ambiguous'],
    ['root@', 'invalid target'],
    ['@db1', 'invalid login'],
    ['ro ot@db1', 'control, space'],
    ['root@db1\n', 'control'],
    ['root@db1\x1b[2J', 'control'],
    ['root@db1:0', 'invalid port'],
    ['root@db1:70000', 'invalid port'],
    ['root@db1:22x', 'invalid port'],
    ['root@-db1', 'invalid target'],
    ['root@db1..x', 'invalid target'],
    ['rööt@db1', 'non-ASCII'],
    ['-oProxyCommand=x@db1', 'invalid login'],
    ['a'.repeat(300), 'too long'],
  ])('refuses %j (%s)', (name, why) => {
    expect(() => parseRoutingName(name)).toThrow(RoutingNameError);
    expect(() => parseRoutingName(name)).toThrow(new RegExp(why.split(',')[0] ?? why));
  });

  it('compares destinations across attempts', () => {
    expect(sameRoutingName(parseRoutingName('root@db1'), parseRoutingName('root@DB1'))).toBe(true);
    expect(sameRoutingName(parseRoutingName('root@db1'), parseRoutingName('postgres@db1'))).toBe(false);
    expect(sameRoutingName(parseRoutingName('alice'), parseRoutingName('root@db1'))).toBe(false);
    expect(sameRoutingName(parseRoutingName('alice'), parseRoutingName('alice'))).toBe(true);
  });
});

describe('isSensitiveAddress', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '169.254.169.254', '0.0.0.0', '::', 'fe80::1', '::ffff:127.0.0.1', '224.0.0.1', 'ff02::1'])(
    'flags %s',
    (a) => expect(isSensitiveAddress(a)).toBe(true),
  );
  it.each(['10.0.0.5', '192.168.1.1', 'db1.internal', '2001:db8::1', '8.8.8.8'])('allows %s', (a) => expect(isSensitiveAddress(a)).toBe(false));
});
