/**
 * BENCHMARK ONLY: `gatehouse serve` with channel data recording turned off, so the recording
 * section of `npm run bench` can compare recording on against off with two gateways that run
 * the same code (see src/recording/benchmark-switch.ts for why the product has no such switch).
 *
 *   node dist/bench/unrecorded-gateway.js serve --listen … (same arguments as gatehouse serve)
 */
import { main } from '../src/cli.js';
import { disableChannelDataRecordingForBenchmark } from '../src/recording/benchmark-switch.js';

disableChannelDataRecordingForBenchmark();
process.exitCode = await main(process.argv.slice(2));
