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

/**
 * GC on the main thread only. V8's parallel and concurrent GC helper threads spend extra CPU to
 * shorten pauses; a gateway runs one worker per core, so those threads take CPU from the other
 * workers. The relay allocates one buffer per packet, and the helper threads were about a third
 * of a worker's CPU in a bulk upload: with the flag, gateway CPU per GiB relayed fell ~24% (bench
 * --only cpu, 256 MiB, alternated runs: 10.3 -> 7.9 s/GiB averaged over the three ciphers).
 */
export const GATEWAY_GC_FLAG = '--single-threaded-gc';

function has(execArgv: readonly string[], ...names: readonly string[]): boolean {
  return execArgv.some((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));
}

/** `execArgv` with the gateway's young-generation cap and GC mode added, unless the operator set them. */
export function withGatewayHeapFlags(execArgv: readonly string[]): string[] {
  const out = [...execArgv];
  if (!has(execArgv, '--max-semi-space-size', '--max_semi_space_size')) out.push(`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MIB}`);
  if (!has(execArgv, GATEWAY_GC_FLAG, '--single_threaded_gc', '--no-single-threaded-gc', '--no_single_threaded_gc')) out.push(GATEWAY_GC_FLAG);
  return out;
}
