/**
 * `gatehouse serve --workers 2` for the end-to-end cluster tests: the primary runs in this
 * process (startClusterServe), its two workers are real node:cluster children running the
 * transpiled worker program. It takes over a harness gateway (test/gateway/harness.ts): the
 * harness's single-process gateway is closed and the cluster serves the same ports, state,
 * policy and recordings.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runSessions } from '../../src/cli/sessions.js';
import { type ClusterServeHandle, startClusterServe } from '../../src/cluster/primary.js';
import type { SessionSummary } from '../../src/gateway/session-routes.js';
import type { TestGateway } from '../gateway/harness.js';
import { buildForChild } from '../recording/child-build.js';
import { captureCliIo, jsonLineSink } from '../support/index.js';

export interface TestCluster {
  readonly cluster: ClusterServeHandle;
  /** Every pino line of the primary and both workers (worker lines carry `worker`), parsed. */
  readonly logs: Record<string, unknown>[];
  /** `--admin URL --state-dir DIR` for the session CLI commands. */
  readonly adminArgs: readonly string[];
  /** The live sessions of every worker, through the primary's admin listener (`sessions --json`). */
  listSessions(): Promise<SessionSummary[]>;
  /** Stops the cluster (idempotent) and removes the transpiled worker program. */
  close(): Promise<void>;
}

/** Closes `gw`'s own gateway and starts a two-worker cluster in its place. */
export async function startTestCluster(gw: TestGateway): Promise<TestCluster> {
  const built = await buildForChild(['src/cluster/worker.ts']);
  const logs: Record<string, unknown>[] = [];
  let cluster: ClusterServeHandle;
  try {
    await gw.serve.close();
    cluster = await startClusterServe({ ...gw.config, workers: 2 }, { destination: jsonLineSink(logs), workerEntry: join(built, 'src', 'cluster', 'worker.js'), execArgv: [] });
  } catch (e) {
    rmSync(built, { recursive: true, force: true });
    throw e;
  }
  expect(cluster.gateway?.address.port).toBe(gw.port);
  const adminArgs = ['--admin', cluster.admin.url(), '--state-dir', gw.config.stateDir];
  return {
    cluster,
    logs,
    adminArgs,
    async listSessions() {
      const t = captureCliIo();
      expect(await runSessions([...adminArgs, '--json'], t.io), t.c.err).toBe(0);
      return (JSON.parse(t.c.out) as { sessions: SessionSummary[] }).sessions;
    },
    async close() {
      await cluster.close();
      rmSync(built, { recursive: true, force: true });
    },
  };
}
