// Entry for the process edge (serve, CLI). Protocol core, gateway and policy code import only
// './events.js' (no dependencies), never this index, which pulls in pino and prom-client.
export { type Audit, createAudit, describeEvent } from './audit.js';
export * from './events.js';
export { createLogger, LOG_LEVELS, type Logger, type LoggerConfig, type LogLevel } from './logger.js';
export { GatehouseMetrics, type MetricsOptions } from './metrics.js';
export { isSecretField, REDACTED, scrub, scrubString } from './redact.js';
export { createObservabilitySink, observe } from './subscriber.js';
