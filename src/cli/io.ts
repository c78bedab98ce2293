/** Where a command writes: the process streams, or buffers in tests. */
export interface CliIo {
  readonly stdout: { write(data: string): unknown };
  readonly stderr: { write(data: string): unknown };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** A command of the `gatehouse` binary: arguments after its name in, exit status out. */
export type CommandRun = (argv: string[]) => Promise<number>;
