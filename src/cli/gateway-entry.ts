/**
 * The seam between `gatehouse serve` and the SSH gateway. serve builds the shared services
 * (logger, event hub, metrics, policy store, admin listener) and hands them to the gateway's
 * `startGateway(config, services)`, exported by src/gateway/start.ts. Until that module exists
 * serve runs the admin listener and policy store alone and says so.
 */
import type { GatehouseConfig } from '../config.js';
import type { AdminServer } from '../admin/server.js';
import type { EventSink } from '../obs/events.js';
import type { Logger } from '../obs/logger.js';
import type { GatehouseMetrics } from '../obs/metrics.js';
import type { PolicyStore } from '../policy/store.js';

export interface GatewayServices {
  readonly logger: Logger;
  /** Emit typed events here; logging and metrics subscribe (DESIGN principle 10). */
  readonly events: EventSink;
  readonly metrics: GatehouseMetrics;
  /** The live policy; subscribe with onReload to re-evaluate live sessions. */
  readonly policy: PolicyStore;
  /** Register sessions API routes etc. with admin.route(). */
  readonly admin: AdminServer;
}

export interface GatewayHandle {
  /** Where the SSH listener is bound (useful when it was asked for port 0). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

export type StartGateway = (config: GatehouseConfig, services: GatewayServices) => Promise<GatewayHandle>;

/** Relative to this file; the gateway engineer provides it. */
export const GATEWAY_MODULE = '../gateway/start.js';

/** The gateway's startGateway, or undefined while src/gateway/start.ts does not exist. */
export async function loadStartGateway(specifier: string = GATEWAY_MODULE): Promise<StartGateway | undefined> {
  let mod: unknown;
  try {
    mod = await import(new URL(specifier, import.meta.url).href);
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes('start.js')) {
      return undefined;
    }
    throw e;
  }
  const start = typeof mod === 'object' && mod !== null && 'startGateway' in mod ? mod.startGateway : undefined;
  if (typeof start !== 'function') throw new Error(`${specifier} does not export startGateway(config, services)`);
  return start as StartGateway;
}
