import { ConfigError, loadConfig } from '../config.js';

/** Where a command writes: the process streams, or buffers in tests. */
export interface CliIo {
  readonly stdout: { write(data: string): unknown };
  readonly stderr: { write(data: string): unknown };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** A command of the `gatehouse` binary: arguments after its name in, exit status out. */
export type CommandRun = (argv: string[]) => Promise<number>;

/** Where a command writes, and the environment and directory its configuration is read in. */
export interface ConfiguredIo extends CliIo {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/**
 * Loads the configuration (flags, environment, file) for a command; on a config error writes the
 * message to stderr and returns undefined (the command exits 2).
 */
export function loadCommandConfig(argv: readonly string[], io: ConfiguredIo): ReturnType<typeof loadConfig> | undefined {
  try {
    return loadConfig({ argv: [...argv], env: io.env ?? process.env, ...(io.cwd === undefined ? {} : { cwd: io.cwd }) });
  } catch (e) {
    io.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
    return undefined;
  }
}
