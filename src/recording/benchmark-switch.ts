/**
 * BENCHMARK ONLY. Turns off the recording of channel data (output and input) in this process,
 * so `npm run bench -- --only recording` can measure what recording costs against a gateway
 * that is identical except for that (issue 5: "recording on against recording off").
 *
 * The product has no way to run unrecorded: Gatehouse records every session channel (DESIGN,
 * issue 5 "a session is never silently unrecorded"), so there is deliberately no policy field,
 * config key, environment variable or CLI flag for this. Only a separate entry point that calls
 * `disableChannelDataRecordingForBenchmark()` before starting `gatehouse serve` can turn it on
 * (bench/unrecorded-gateway.ts). The switch is one-way, and every recording made while it is
 * on says so in a marker event, so such a file can never pass for a complete recording.
 */

let disabled = false;

export const BENCHMARK_UNRECORDED_MARKER = 'channel data not recorded: benchmark-only unrecorded gateway (bench/unrecorded-gateway.ts)';

/** Bench-only, one-way: from now on this process records no channel output or input. */
export function disableChannelDataRecordingForBenchmark(): void {
  disabled = true;
}

export function isChannelDataRecordingDisabled(): boolean {
  return disabled;
}
