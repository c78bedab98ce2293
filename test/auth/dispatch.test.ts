import { describe, expect, it } from 'vitest';
import { type AuthPhase, type Role, routeMessage, routeMessageId } from '../../src/auth/dispatch.js';
import { DisconnectReason, Msg } from '../../src/wire/index.js';

const route = (id: number, role: Role, phase: AuthPhase) => routeMessageId(id, role, phase).route;

describe('routeMessage', () => {
  it('ends the connection for every connection-protocol message before authentication (CVE-2025-32433 class)', () => {
    for (const role of ['client', 'server'] as const) {
      for (const phase of ['service', 'userauth'] as const) {
        for (let id = 80; id <= 255; id++) {
          const r = routeMessageId(id, role, phase);
          expect(r.route, `${role} ${phase} ${id}`).toBe('disconnect');
          if (r.route === 'disconnect') expect(r.reason).toBe(DisconnectReason.PROTOCOL_ERROR);
        }
      }
    }
  });

  it('routes connection messages after authentication and answers unknown ones with UNIMPLEMENTED', () => {
    for (let id = Msg.GLOBAL_REQUEST; id <= Msg.CHANNEL_FAILURE; id++) expect(route(id, 'server', 'connection')).toBe('connection');
    expect(route(101, 'server', 'connection')).toBe('unimplemented');
    expect(route(200, 'client', 'connection')).toBe('unimplemented');
  });

  it('routes transport messages in every phase', () => {
    for (const id of [1, 2, 3, 4, 7, 20, 21, 30, 31, 49]) {
      for (const phase of ['service', 'userauth', 'connection'] as const) expect(route(id, 'server', phase)).toBe('transport');
    }
  });

  it('accepts service messages only in the service phase and only in the right direction', () => {
    expect(route(Msg.SERVICE_REQUEST, 'server', 'service')).toBe('auth');
    expect(route(Msg.SERVICE_ACCEPT, 'client', 'service')).toBe('auth');
    expect(route(Msg.SERVICE_ACCEPT, 'server', 'service')).toBe('disconnect');
    expect(route(Msg.SERVICE_REQUEST, 'client', 'service')).toBe('disconnect');
    expect(route(Msg.SERVICE_REQUEST, 'server', 'userauth')).toBe('disconnect');
    expect(route(Msg.SERVICE_REQUEST, 'server', 'connection')).toBe('disconnect');
  });

  it('accepts userauth messages by direction, and none before the service', () => {
    expect(route(Msg.USERAUTH_REQUEST, 'server', 'userauth')).toBe('auth');
    expect(route(Msg.USERAUTH_INFO_RESPONSE, 'server', 'userauth')).toBe('auth');
    expect(route(Msg.USERAUTH_REQUEST, 'server', 'service')).toBe('disconnect');
    for (const id of [51, 52, 53, 60]) {
      expect(route(id, 'client', 'userauth')).toBe('auth');
      expect(route(id, 'server', 'userauth')).toBe('disconnect');
    }
    expect(route(Msg.USERAUTH_REQUEST, 'client', 'userauth')).toBe('disconnect');
    expect(route(62, 'server', 'userauth')).toBe('disconnect');
  });

  it('ignores a USERAUTH_REQUEST after success (RFC 4252 §5.1) but refuses other late auth messages', () => {
    expect(route(Msg.USERAUTH_REQUEST, 'server', 'connection')).toBe('ignore');
    expect(route(Msg.USERAUTH_BANNER, 'client', 'connection')).toBe('ignore');
    expect(route(Msg.USERAUTH_SUCCESS, 'client', 'connection')).toBe('disconnect');
    expect(route(Msg.USERAUTH_INFO_RESPONSE, 'server', 'connection')).toBe('disconnect');
  });

  it('refuses unassigned numbers before authentication and an empty payload', () => {
    expect(route(9, 'server', 'userauth')).toBe('disconnect');
    expect(route(128, 'server', 'service')).toBe('disconnect');
    expect(routeMessage(new Uint8Array(0), 'server', 'connection').route).toBe('disconnect');
    expect(routeMessage(Uint8Array.of(94, 0), 'server', 'userauth').route).toBe('disconnect');
  });
});
