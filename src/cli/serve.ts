/**
 * `gatehouse serve`: builds the configuration, the logger, metrics and event hub, loads the
 * policy (hot reload on change and SIGHUP), starts the admin listener and then the gateway
 * (src/gateway/start.ts → startGateway). Runs until SIGINT or SIGTERM.
 *
 * startServe is the single-process form (`--workers 1`, and what in-process tests use); with
 * `--workers N` (N > 1, the default on a multi-core machine) run() starts the primary of
 * src/cluster/primary.ts instead, which forks N gateway workers sharing the listener.
 */
import type { DestinationStream } from 'pino';
import { registerPolicyRoutes } from '../admin/policy-routes.js';
import { AdminServer } from '../admin/server.js';
import { loadOrCreateAdminToken } from '../admin/token.js';
import { configHelp, type GatehouseConfig, loadConfig } from '../config.js';
import { missingGatewayHeapFlags } from '../gateway/heap-flags.js';
import { EventHub } from '../obs/events.js';
import { createLogger, type Logger } from '../obs/logger.js';
import { GatehouseMetrics } from '../obs/metrics.js';
import { observe } from '../obs/subscriber.js';
import { formatIssue, PolicyLoadError } from '../policy/errors.js';
import { PolicyStore } from '../policy/store.js';
import { type GatewayHandle, type GatewayServices, loadStartGateway, type StartGateway } from './gateway-entry.js';
import { type CliIo, processIo } from './io.js';

export const SERVE_USAGE = `usage: gatehouse serve [--config FILE] [options]
${configHelp()}
Settings may also come from a YAML config file (--config, GATEHOUSE_CONFIG) and GATEHOUSE_*
variables; flags win over variables, variables over the file.
`;

export interface ServeHandle {
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  readonly policy: PolicyStore;
  readonly admin: AdminServer;
  readonly gateway: GatewayHandle | undefined;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Log destination (stdout by default). */
  readonly destination?: DestinationStream;
  /** Override the gateway (tests); by default src/gateway/start.ts when it exists. */
  readonly startGateway?: StartGateway | null;
}

/** Starts everything in this process (config.workers is not consulted); throws PolicyLoadError when the initial policy is broken. */
export async function startServe(config: GatehouseConfig, options: ServeOptions = {}): Promise<ServeHandle> {
  const logger = createLogger({ level: config.logLevel, ...(options.destination ? { destination: options.destination } : {}) });
  const metrics = new GatehouseMetrics();
  const hub = new EventHub();
  observe(hub, logger, metrics);
  const policy = new PolicyStore(config.policies, { events: hub.emit });
  const admin = new AdminServer({
    token: loadOrCreateAdminToken(config.stateDir),
    metrics: () => metrics.expose(),
    health: () => ({ policyVersion: policy.current.version }),
    onError: (err, req) => logger.error({ err, path: req.url }, 'admin route failed'),
  });
  registerPolicyRoutes(admin, policy);
  let gateway: GatewayHandle | undefined;
  let start: StartGateway | undefined;
  try {
    policy.watch();
    await admin.listen(config.admin.host, config.admin.port);
    logger.info({ url: admin.url(), stateDir: config.stateDir }, 'admin listener ready (/metrics, /healthz)');
    start = options.startGateway === undefined ? await loadStartGateway() : (options.startGateway ?? undefined);
    const services: GatewayServices = { logger, events: hub.emit, metrics, policy, admin };
    if (start) gateway = await start(config, services);
  } catch (e) {
    // Whatever failed, leave nothing listening: the process must be able to exit.
    policy.close();
    await admin.close();
    throw e;
  }
  if (gateway) {
    logger.info({ listen: gateway.address }, 'SSH listener ready');
  } else {
    logger.warn(
      { listen: config.listen },
      'the SSH listener is provided by src/gateway (startGateway in src/gateway/start.ts), which this build does not include; serving admin and policy only',
    );
  }
  let closed = false;
  return {
    config,
    logger,
    policy,
    admin,
    gateway,
    async close() {
      if (closed) return;
      closed = true;
      await gateway?.close();
      policy.close();
      await admin.close();
    },
  };
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  const { config, rest } = loadConfig({ argv });
  if (rest.length > 0) {
    io.stderr.write(`gatehouse serve: unknown argument ${JSON.stringify(rest[0])}\n${SERVE_USAGE}`);
    return 2;
  }
  // Handlers go in before anything starts: SIGHUP's default action would end the process, and
  // a signal may arrive as soon as the admin listener announces itself.
  let handle: ServeHandle | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let stop: (signal: NodeJS.Signals) => void = (signal) => {
    stopRequested = signal;
  };
  const onHup = () => handle?.policy.reloadFromSignal();
  const onStop = (signal: NodeJS.Signals) => stop(signal);
  process.on('SIGHUP', onHup);
  process.once('SIGINT', onStop);
  process.once('SIGTERM', onStop);
  const cleanup = () => {
    process.off('SIGHUP', onHup);
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
  };
  try {
    if (config.workers > 1) handle = await (await import('../cluster/primary.js')).startClusterServe(config);
    else {
      handle = await startServe(config);
      // Workers of --workers N get the flags from the primary; this process has what it was given.
      const missing = missingGatewayHeapFlags(process.execArgv, process.env['NODE_OPTIONS']);
      if (missing.length > 0) {
        handle.logger.warn(
          { missing },
          'the gateway runs in this process without its V8 heap flags (more GC under bulk transfers, more memory per idle session): start it with npm start, the gatehouse command, or node with these flags',
        );
      }
    }
  } catch (e) {
    cleanup();
    if (e instanceof PolicyLoadError) {
      io.stderr.write(`gatehouse serve: the policy in ${config.policies} is not valid:\n`);
      for (const i of e.issues) io.stderr.write(`${formatIssue(i)}\n`);
      return 1;
    }
    throw e;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    if (stopRequested) resolve(stopRequested);
    else stop = resolve;
  });
  cleanup();
  handle.logger.info({ signal }, 'shutting down (a second SIGINT or SIGTERM exits at once)');
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await handle.close();
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  return 0;
}
