/**
 * V8 flags for a gateway process. An idle session costs the gateway ~60 KiB of live heap, but
 * a burst of session set-ups grows V8's young generation to its 16 MiB semi-space default
 * (three of them resident), and an idle gateway never gives that back: at 1,000 sessions that
 * was a third of the RSS per session (bench --only memory: 115 -> 82 KiB at 600 sessions in one
 * process, issue 7). Capping the semi-space at 4 MiB costs no measurable set-up CPU (the young
 * objects of a set-up die young either way). V8 reads the flag only at start-up, so it is given
 * to the processes we start (the workers of `serve --workers N`); a single-process gateway gets
 * it from its command line or NODE_OPTIONS.
 */
export const GATEWAY_SEMI_SPACE_MIB = 4;

/** `execArgv` with the gateway's young-generation cap added, unless the operator set one. */
export function withGatewayHeapFlags(execArgv: readonly string[]): string[] {
  if (execArgv.some((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--max_semi_space_size'))) return [...execArgv];
  return [...execArgv, `--max-semi-space-size=${GATEWAY_SEMI_SPACE_MIB}`];
}
