/**
 * `gatehouse serve`'s SSH side: loads the state directory (host key and CAs, created on first
 * start), optional OIDC sign-in, builds the Gateway and its admin routes, and listens.
 */
import { hostname } from 'node:os';
import type { GatewayHandle, GatewayServices } from '../cli/gateway-entry.js';
import type { GatehouseConfig } from '../config.js';
import { createOidcSignIn, type OidcSignIn, userCaIssuer } from '../oidc/index.js';
import { Gateway } from './gateway.js';
import { sealInterruptedSessions } from '../recording/index.js';
import { registerRecordingRoutes } from '../admin/recordings.js';
import { loadOrCreateAdminToken } from '../admin/token.js';
import { registerSessionRoutes } from './session-routes.js';
import { loadGatewayState } from './state.js';

export async function startGateway(config: GatehouseConfig, services: GatewayServices): Promise<GatewayHandle> {
  const state = await loadGatewayState(config.stateDir);
  // Sessions a crashed gateway left open are sealed (marked interrupted) before new ones start.
  await sealInterruptedSessions(config.recordings, state.recordingKey).catch((e: unknown) =>
    services.logger.warn({ err: e }, 'could not seal interrupted recordings'),
  );
  let oidc: OidcSignIn | undefined;
  if (config.oidc) {
    oidc = await createOidcSignIn({ oidc: config.oidc, stateDir: config.stateDir });
    const web = oidc.webLogin({ issueCertificate: userCaIssuer(state.userCa), publicBaseUrl: new URL(services.admin.url()) });
    for (const route of web.routes()) services.admin.route(route);
  }
  const gateway = new Gateway({
    state,
    policy: services.policy,
    events: services.events,
    recordingsDir: config.recordings,
    recordingFormat: config.recordingFormat === 'v3' ? 3 : 2,
    oidc,
    hostNames: [...new Set([config.listen.host, 'localhost', '127.0.0.1', hostname()])],
    listen: config.listen,
  });
  registerSessionRoutes(services.admin, gateway);
  registerRecordingRoutes(services.admin, { recordingsDir: config.recordings, token: loadOrCreateAdminToken(config.stateDir) });
  // Revocation by policy: a user the reloaded policy no longer knows loses their key bindings too.
  if (oidc) {
    const signIn = oidc;
    services.policy.onReload((policy) => {
      void signIn.keyBindings.revokeWhere((id) => !policy.users.some((u) => u.oidc && u.name === id.user) && !policy.rules.some((r) => r.oidcGroups.some((g) => id.groups.includes(g)))).catch(() => {});
    });
  }
  const address = await gateway.listen(config.listen.host, config.listen.port);
  services.logger.info({ ssh: `${address.host}:${address.port}`, hostCa: state.hostCa.publicKeyLine }, 'gateway listening');
  return {
    address,
    close: () => gateway.close(),
  };
}
