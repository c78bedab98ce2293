/**
 * `gatehouse serve`'s SSH side: loads the state directory (host key and CAs, created on first
 * start), optional OIDC sign-in, builds the Gateway and its admin routes, and listens.
 *
 * startGateway is the single-process form. With `serve --workers N` (src/cluster) each worker
 * calls openGateway (no admin listener of its own, no sealing: the primary seals at start and
 * after a worker dies) and the primary registers the admin routes with registerGatewayRoutes.
 */
import { hostname } from 'node:os';
import { registerRecordingRoutes } from '../admin/recordings.js';
import type { AdminServer } from '../admin/server.js';
import { loadOrCreateAdminToken } from '../admin/token.js';
import type { GatewayHandle, GatewayServices } from '../cli/gateway-entry.js';
import type { GatehouseConfig } from '../config.js';
import type { EventSink } from '../obs/events.js';
import type { Logger } from '../obs/logger.js';
import { createOidcSignIn, type OidcSignIn, userCaIssuer } from '../oidc/index.js';
import { policyAdmitsOidcIdentity } from '../policy/index.js';
import type { PolicyStore } from '../policy/store.js';
import { sealInterruptedSessions } from '../recording/index.js';
import { Gateway } from './gateway.js';
import { localSessions, registerSessionRoutes, type SessionDirectory } from './session-routes.js';
import { type GatewayState, loadGatewayState } from './state.js';

export interface OpenGatewayOptions {
  /** Prefix of connection ids (a worker's "w<id>-"). */
  readonly connectionIdPrefix?: string;
  /** Seal recordings a crashed gateway left open (only where no other process has live sessions). */
  readonly sealInterrupted: boolean;
  /** Revoke OIDC key bindings the reloaded policy no longer admits (one process per state dir). */
  readonly revokeBindingsOnReload: boolean;
}

export interface OpenedGateway {
  readonly gateway: Gateway;
  readonly state: GatewayState;
  readonly oidc: OidcSignIn | undefined;
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/** Seals the sessions a crashed gateway left open; failures are logged, never fatal. */
export async function sealLeftOpen(config: GatehouseConfig, state: GatewayState, logger: Logger): Promise<void> {
  await sealInterruptedSessions(config.recordings, state.recordingKey).catch((e: unknown) =>
    logger.warn({ err: e }, 'could not seal interrupted recordings'),
  );
}

/** The OIDC sign-in of `config`, with revocation of key bindings on policy reload when asked. */
export async function openOidc(config: GatehouseConfig, policy: PolicyStore, revokeOnReload: boolean, logger: Logger): Promise<OidcSignIn | undefined> {
  if (!config.oidc) return undefined;
  const oidc = await createOidcSignIn({ oidc: config.oidc, stateDir: config.stateDir });
  // Revocation by policy: a user the reloaded policy no longer knows loses their key bindings too.
  if (revokeOnReload) {
    const log = logger.child({ component: 'oidc' });
    policy.onReload((p) => {
      oidc.keyBindings.revokeWhere((id) => !policyAdmitsOidcIdentity(p, id)).then(
        (n) => {
          if (n > 0) log.warn({ revoked: n, policyVersion: p.version }, `revoked ${n} key binding(s): policy v${p.version} no longer admits their identities`);
        },
        (e: unknown) => log.error({ err: e, policyVersion: p.version }, 'could not revoke key bindings after a policy reload'),
      );
    });
  }
  return oidc;
}

/** Builds the gateway and listens; registers no admin routes. */
export async function openGateway(
  config: GatehouseConfig,
  services: { readonly logger: Logger; readonly events: EventSink; readonly policy: PolicyStore },
  options: OpenGatewayOptions,
): Promise<OpenedGateway> {
  const state = await loadGatewayState(config.stateDir);
  // Sessions a crashed gateway left open are sealed (marked interrupted) before new ones start.
  if (options.sealInterrupted) await sealLeftOpen(config, state, services.logger);
  const oidc = await openOidc(config, services.policy, options.revokeBindingsOnReload, services.logger);
  const gateway = new Gateway({
    state,
    policy: services.policy,
    events: services.events,
    recordingsDir: config.recordings,
    recordingFormat: config.recordingFormat === 'v3' ? 3 : 2,
    oidc,
    hostNames: [...new Set([config.listen.host, 'localhost', '127.0.0.1', hostname()])],
    listen: config.listen,
    maxConnections: config.maxConnections,
    maxConnectionsPerSource: config.maxConnectionsPerSource,
    ...(options.connectionIdPrefix === undefined ? {} : { connectionIdPrefix: options.connectionIdPrefix }),
  });
  // The listener's errors (EADDRINUSE at start, EMFILE later) are logged; without a listener
  // an 'error' event would end the process with a stack trace instead of a message.
  gateway.server.on('error', (e: unknown) => services.logger.error({ err: e }, 'SSH listener error'));
  const address = await gateway.listen(config.listen.host, config.listen.port);
  return { gateway, state, oidc, address, close: () => gateway.close() };
}

/** The gateway's admin routes: sessions API, recordings browser, OIDC web sign-in. */
export function registerGatewayRoutes(
  admin: AdminServer,
  config: GatehouseConfig,
  parts: {
    readonly sessions: SessionDirectory;
    readonly state: GatewayState;
    readonly oidc: OidcSignIn | undefined;
    /** Where web sign-ins are reported (audit log, gatehouse_auth_total{method="oidc-web"}). */
    readonly events: EventSink;
  },
): void {
  if (parts.oidc) {
    const { events } = parts;
    const web = parts.oidc.webLogin({
      issueCertificate: userCaIssuer(parts.state.userCa),
      publicBaseUrl: new URL(admin.url()),
      onIssued: ({ identity, fingerprint, validBefore }) =>
        events({
          type: 'oidc.web-login',
          result: 'issued',
          reason: 'signed in at the identity provider',
          user: identity.user,
          groups: identity.groups,
          keyFingerprint: fingerprint,
          validBefore: validBefore.toISOString(),
        }),
      // the error's detail is for operators (provider messages, never tokens or codes)
      onFailed: ({ error }) => events({ type: 'oidc.web-login', result: 'refused', reason: `${error.kind}: ${error.detail}` }),
    });
    for (const route of web.routes()) admin.route(route);
  }
  registerSessionRoutes(admin, parts.sessions);
  registerRecordingRoutes(admin, { recordingsDir: config.recordings, token: loadOrCreateAdminToken(config.stateDir) });
}

export async function startGateway(config: GatehouseConfig, services: GatewayServices): Promise<GatewayHandle> {
  const opened = await openGateway(config, services, { sealInterrupted: true, revokeBindingsOnReload: true });
  try {
    registerGatewayRoutes(services.admin, config, { sessions: localSessions(opened.gateway), state: opened.state, oidc: opened.oidc, events: services.events });
  } catch (e) {
    await opened.close();
    throw e;
  }
  const { address, state } = opened;
  services.logger.info({ ssh: `${address.host}:${address.port}`, hostCa: state.hostCa.publicKeyLine }, 'gateway listening');
  return { address, close: () => opened.close() };
}
