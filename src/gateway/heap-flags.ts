/**
 * V8 flags for a gateway process. An idle session costs the gateway ~60 KiB of live heap, but
 * a burst of session set-ups grows V8's young generation to its 16 MiB semi-space default
 * (three of them resident), and an idle gateway never gives that back: at 1,000 sessions that
 * was a third of the RSS per session (bench --only memory: 115 -> 82 KiB at 600 sessions in one
 * process, issue 7). Capping the semi-space at 4 MiB costs no measurable set-up CPU (the young
 * objects of a set-up die young either way). V8 reads the flag only at start-up, so it is given
 * to the processes we start (the workers of `serve --workers N`); a single-process gateway gets
 * it from its command line: `npm start`, the `gatehouse` command (its #! line passes all three
 * flags), or NODE_OPTIONS. `serve` warns when it runs in-process without them.
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

/**
 * The old generation's initial allocation limit, MiB. A gateway that has gone idle once (after
 * its first bulk transfer, say) had its old-generation limit cut to about its live heap (~13
 * MiB), and relayed buffers that waited in a channel queue across two scavenges were promoted:
 * their backing stores are only freed by a full GC, so every ~10 MB of them started one. A
 * 1 GiB recorded download then ran 60-90 mark-compacts, a quarter of the relay thread in perf
 * (MarkCompactCollector::ProcessMarkingWorklist and friends), on every transfer after the first.
 * With the limit at 64 MiB they all but vanish (0-1 per GiB, relay thread 4.0-4.5 -> 2.9-3.3 s
 * per GiB in-process; `ssh -J` download in the default two-worker set-up, three interleaved
 * pairs: 72/82/86 against 61/56/80 MB/s, gateway CPU 9.4/8.9/8.3 against 13.0/14.2/10.6 s/GiB).
 * The price is up to that much garbage held between full GCs per process under bulk load; idle
 * session memory is unchanged (bench --only memory: 84 against 90 KiB per session, noise).
 */
export const GATEWAY_OLD_SPACE_MIB = 64;

function has(execArgv: readonly string[], ...names: readonly string[]): boolean {
  return execArgv.some((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));
}

/** `execArgv` with the gateway's young-generation cap, GC mode and old-generation start added, unless the operator set them. */
export function withGatewayHeapFlags(execArgv: readonly string[]): string[] {
  const out = [...execArgv];
  if (!has(execArgv, '--max-semi-space-size', '--max_semi_space_size')) out.push(`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MIB}`);
  if (!has(execArgv, GATEWAY_GC_FLAG, '--single_threaded_gc', '--no-single-threaded-gc', '--no_single_threaded_gc')) out.push(GATEWAY_GC_FLAG);
  if (!has(execArgv, '--initial-old-space-size', '--initial_old_space_size', '--initial-heap-size', '--initial_heap_size')) out.push(`--initial-old-space-size=${GATEWAY_OLD_SPACE_MIB}`);
  return out;
}

/**
 * The gateway flags a process started with `execArgv` and `nodeOptions` (NODE_OPTIONS) lacks:
 * what `serve` names in its warning when it runs the gateway in-process without them.
 */
export function missingGatewayHeapFlags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter((a) => a !== '')];
  return withGatewayHeapFlags(given).slice(given.length);
}
