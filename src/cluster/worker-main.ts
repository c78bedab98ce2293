/**
 * The program node:cluster starts for each worker of `gatehouse serve --workers N`
 * (cluster.setupPrimary({ exec }) in src/cluster/pool.ts). It only runs the worker.
 */
import { runWorker } from './worker.js';

await runWorker();
