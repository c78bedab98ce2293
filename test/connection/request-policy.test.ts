import { describe, expect, it } from 'vitest';
import { channelRequestRefusal, ChannelOpenFailure, globalRequestAction, openRefusal } from '../../src/connection/index.js';

describe('request policy', () => {
  it('each role accepts only the channel types its peer may open', () => {
    const direct = { type: 'direct-tcpip', host: 'h', port: 1, originHost: 'o', originPort: 2 } as const;
    const forwarded = { type: 'forwarded-tcpip', connectedHost: 'h', connectedPort: 1, originHost: 'o', originPort: 2 } as const;
    expect(openRefusal('server', { type: 'session' }, false)).toBeUndefined();
    expect(openRefusal('server', direct, false)).toBeUndefined();
    expect(openRefusal('server', forwarded, false)?.reason).toBe(ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED);
    expect(openRefusal('server', { type: 'x11', originHost: 'a', originPort: 1 }, false)?.reason).toBe(ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED);
    expect(openRefusal('server', { type: 'auth-agent@openssh.com' }, false)).toBeDefined();
    expect(openRefusal('client', forwarded, false)).toBeUndefined();
    expect(openRefusal('client', { type: 'auth-agent@openssh.com' }, false)).toBeUndefined();
    expect(openRefusal('client', { type: 'session' }, false)).toBeDefined();
    expect(openRefusal('client', direct, false)).toBeDefined();
    expect(openRefusal('server', { type: 'session' }, true)?.description).toMatch(/no more sessions/);
    expect(openRefusal('server', direct, true)).toBeUndefined();
    expect(openRefusal('server', { type: 'unknown', channelType: 'x', data: new Uint8Array(0) }, false)?.reason).toBe(
      ChannelOpenFailure.UNKNOWN_CHANNEL_TYPE,
    );
  });

  it('session requests belong on session channels; unknown requests are refused', () => {
    expect(channelRequestRefusal({ type: 'shell' }, { type: 'session' })).toBeUndefined();
    expect(channelRequestRefusal({ type: 'shell' }, { type: 'auth-agent@openssh.com' })).toMatch(/shell on a auth-agent/);
    expect(channelRequestRefusal({ type: 'unknown', name: 'keepalive@openssh.com', data: new Uint8Array(0) }, { type: 'session' })).toBe(
      'unknown channel request',
    );
  });

  it('global requests: forwarding to the server driver, routine ones answered quietly', () => {
    expect(globalRequestAction('server', { type: 'tcpip-forward', address: '', port: 0 })).toEqual({ action: 'driver' });
    expect(globalRequestAction('client', { type: 'tcpip-forward', address: '', port: 0 }).action).toBe('refuse');
    expect(globalRequestAction('server', { type: 'no-more-sessions@openssh.com' })).toEqual({ action: 'no-more-sessions' });
    expect(globalRequestAction('client', { type: 'keepalive@openssh.com' })).toMatchObject({ action: 'refuse', log: false });
    expect(globalRequestAction('client', { type: 'hostkeys-00@openssh.com', hostKeys: [] })).toMatchObject({ action: 'refuse', log: false });
    expect(globalRequestAction('server', { type: 'unknown', name: 'x', data: new Uint8Array(0) })).toMatchObject({ action: 'refuse', log: true });
  });
});
