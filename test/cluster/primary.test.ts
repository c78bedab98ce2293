/** The primary's share of settings for each worker (startClusterServe itself: cluster.test.ts). */
import { describe, expect, it } from 'vitest';
import { workerConfig } from '../../src/cluster/primary.js';
import { defaultConfig } from '../../src/config.js';

describe('workerConfig', () => {
  it('shares the connection limits out among the workers, never below 1', () => {
    const base = defaultConfig('/tmp');
    expect(workerConfig({ ...base, workers: 2, maxConnections: 1024, maxConnectionsPerSource: 64 })).toMatchObject({ maxConnections: 512, maxConnectionsPerSource: 32 });
    expect(workerConfig({ ...base, workers: 3, maxConnections: 10, maxConnectionsPerSource: 1 })).toMatchObject({ maxConnections: 4, maxConnectionsPerSource: 1 });
  });
});
