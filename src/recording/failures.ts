/**
 * Typed recording failures. Every condition that loses or risks recording data is reported
 * to the owner's callback as one of these values; the gateway's policy decides what happens
 * (the default ends the session). Nothing is dropped without a report.
 */

export type RecordingFailureKind =
  /** The in-memory queue hit its bound: the writer is slower than the session. */
  | 'queue-full'
  /** A write, open or sync failed (disk full, permission, read-only file system...). */
  | 'write-failed'
  /** Data arrived after the file had failed or closed; counted, not written. */
  | 'dropped-after-failure';

export interface RecordingFailure {
  readonly kind: RecordingFailureKind;
  /** The file concerned. */
  readonly file: string;
  /** errno code for write failures (ENOSPC, EACCES, EROFS, EIO...). */
  readonly code?: string;
  readonly message: string;
  /** Lines and bytes known not to be in the file because of this failure. */
  readonly lostLines: number;
  readonly lostBytes: number;
}

export type FailureHandler = (f: RecordingFailure) => void;

/** Thrown when a recording cannot even start (directory or file cannot be created). */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
  constructor(
    readonly failure: RecordingFailure,
    options?: { cause?: unknown },
  ) {
    super(failure.message, options);
  }
}

export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What the gateway does when a recording fails: policy decides, the default ends the session. */
export type RecordingFailurePolicy = 'end-session' | 'continue';
export const DEFAULT_RECORDING_FAILURE_POLICY: RecordingFailurePolicy = 'end-session';

/** The message for the user whose session ends (or is refused) because it cannot be recorded. */
export function recordingFailureNotice(f: RecordingFailure): string {
  const why =
    f.kind === 'queue-full'
      ? 'the recording could not keep up'
      : f.code === 'ENOSPC'
        ? 'the recording disk is full'
        : f.code === 'EROFS' || f.code === 'EACCES' || f.code === 'EPERM'
          ? 'the recording directory is not writable'
          : 'the recording could not be written';
  return `Gatehouse: this session cannot be recorded (${why}${f.code ? `, ${f.code}` : ''}); recording is required, so the session is closed.`;
}
