/**
 * The bridge of DESIGN principle 10: the core emits typed events into an EventHub; this
 * subscriber turns each into an audit log line and metric updates.
 */
import type { Logger } from 'pino';
import { createAudit } from './audit.js';
import type { EventHub, EventSink } from './events.js';
import type { GatehouseMetrics } from './metrics.js';

export function createObservabilitySink(logger: Logger, metrics: GatehouseMetrics): EventSink {
  const audit = createAudit(logger);
  return (event) => {
    metrics.record(event);
    audit(event);
  };
}

/** Subscribes logging and metrics to a hub; returns the unsubscribe function. */
export function observe(hub: EventHub, logger: Logger, metrics: GatehouseMetrics): () => void {
  hub.onSubscriberError((error, event) => {
    logger.error({ err: error, event: event.type }, 'observability subscriber failed');
  });
  return hub.subscribe(createObservabilitySink(logger, metrics));
}
