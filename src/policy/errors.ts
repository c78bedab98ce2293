/** Typed errors of the policy loader: every problem names the file, line and column. */

export type PolicyIssueKind =
  | 'yaml-syntax'
  | 'unknown-key'
  | 'wrong-type'
  | 'missing-field'
  | 'invalid-value'
  | 'unknown-action'
  | 'duplicate'
  | 'unknown-reference'
  | 'bad-key'
  | 'io';

export interface PolicyIssue {
  readonly kind: PolicyIssueKind;
  readonly file: string;
  /** 1-based; 0 when the problem is with the file as a whole. */
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export function formatIssue(issue: PolicyIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  return `${where}: ${issue.message}`;
}

/** A policy that could not be loaded; `issues` lists every problem found, not only the first. */
export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
  constructor(readonly issues: readonly PolicyIssue[]) {
    super(
      issues.length === 1 && issues[0]
        ? formatIssue(issues[0])
        : `${issues.length} policy errors:\n${issues.map(formatIssue).join('\n')}`,
    );
  }
}

/** A public key line that is not "type base64 [comment]" with a matching blob. */
export class KeyLineError extends Error {
  override readonly name = 'KeyLineError';
}
