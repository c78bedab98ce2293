/**
 * Typed access to a parsed YAML tree that records every mismatch as a PolicyIssue with the
 * line and column of the offending node (from the parser's source ranges). The schema code
 * reads through this and never touches untyped values.
 */
import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { PolicyIssue, PolicyIssueKind } from './errors.js';
import type { SourceLocation } from './types.js';

export type YNode = Node | null | undefined;

export interface Located<T> {
  readonly value: T;
  readonly at: SourceLocation;
}

export class NodeReader {
  readonly issues: PolicyIssue[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  at(node: YNode | Pair, fallback?: SourceLocation): SourceLocation {
    const offset = rangeStart(node);
    if (offset === undefined) return fallback ?? { file: this.file, line: 0, col: 0 };
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col };
  }

  report(kind: PolicyIssueKind, where: SourceLocation, message: string): void {
    this.issues.push({ kind, file: where.file, line: where.line, col: where.col, message });
  }

  private typeError(node: YNode, what: string, expected: string, fallback?: SourceLocation): void {
    if (isAlias(node)) {
      this.report('wrong-type', this.at(node, fallback), `${what}: YAML aliases are not allowed in policy files`);
      return;
    }
    this.report('wrong-type', this.at(node, fallback), `${what} must be ${expected}, not ${describe(node)}`);
  }

  /**
   * The fields of a mapping, keyed by name. Unknown keys are reported (with the allowed
   * ones), required keys that are missing are reported at the mapping.
   */
  fields(
    node: YNode,
    what: string,
    allowed: readonly string[],
    required: readonly string[],
    fallback?: SourceLocation,
  ): Map<string, { node: YNode; at: SourceLocation }> | undefined {
    if (!isMap(node)) {
      this.typeError(node, what, 'a mapping', fallback);
      return undefined;
    }
    const out = new Map<string, { node: YNode; at: SourceLocation }>();
    const items = (node as YAMLMap<unknown, unknown>).items;
    // Name the entry in messages when it has a name, even if the name comes after the mistake.
    const named = items.find((p) => isScalar(p.key) && p.key.value === 'name');
    if (named && isScalar(named.value) && typeof named.value.value === 'string' && !what.includes('"')) {
      what = `${what} "${clip(named.value.value)}"`;
    }
    for (const pair of items) {
      const keyNode = pair.key as YNode;
      const keyAt = this.at(keyNode, this.at(node));
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.report('wrong-type', keyAt, `${what}: keys must be plain names`);
        continue;
      }
      const key = keyNode.value;
      if (!allowed.includes(key)) {
        this.report('unknown-key', keyAt, `${what}: unknown key "${clip(key)}" (expected one of: ${allowed.join(', ')})`);
        continue;
      }
      out.set(key, { node: pair.value as YNode, at: this.at(pair.value as YNode, keyAt) });
    }
    for (const key of required) {
      if (!out.has(key)) this.report('missing-field', this.at(node, fallback), `${what}: "${key}" is required`);
    }
    return out;
  }

  string(node: YNode, what: string, fallback?: SourceLocation): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') {
      if (node.value.length === 0) {
        this.report('invalid-value', this.at(node, fallback), `${what} must not be empty`);
        return undefined;
      }
      return node.value;
    }
    this.typeError(node, what, 'a string', fallback);
    return undefined;
  }

  boolean(node: YNode, what: string, fallback?: SourceLocation): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.typeError(node, what, 'true or false', fallback);
    return undefined;
  }

  port(node: YNode, what: string, fallback?: SourceLocation): number | undefined {
    if (isScalar(node) && typeof node.value === 'number') {
      const n = node.value;
      if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
      this.report('invalid-value', this.at(node, fallback), `${what} must be a port number 1-65535, not ${n}`);
      return undefined;
    }
    this.typeError(node, what, 'a port number', fallback);
    return undefined;
  }

  /** A list of strings; each element keeps its own location. */
  strings(node: YNode, what: string, fallback?: SourceLocation): Located<string>[] | undefined {
    if (!isSeq(node)) {
      this.typeError(node, what, 'a list of strings', fallback);
      return undefined;
    }
    const out: Located<string>[] = [];
    node.items.forEach((item, i) => {
      const s = this.string(item as YNode, `${what}[${i}]`, this.at(node, fallback));
      if (s !== undefined) out.push({ value: s, at: this.at(item as YNode, this.at(node, fallback)) });
    });
    return out;
  }

  /** A list whose items are read by `each`. */
  list(node: YNode, what: string, fallback?: SourceLocation): { node: YNode; at: SourceLocation }[] | undefined {
    if (!isSeq(node)) {
      this.typeError(node, what, 'a list', fallback);
      return undefined;
    }
    return node.items.map((item) => ({ node: item as YNode, at: this.at(item as YNode, this.at(node, fallback)) }));
  }

  /** A flat mapping of names to scalar values (labels); numbers and booleans become strings. */
  labels(node: YNode, what: string, fallback?: SourceLocation): Record<string, string> | undefined {
    if (!isMap(node)) {
      this.typeError(node, what, 'a mapping of names to values', fallback);
      return undefined;
    }
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const k = pair.key as YNode;
      const v = pair.value as YNode;
      if (!isScalar(k) || typeof k.value !== 'string') {
        this.report('wrong-type', this.at(k, this.at(node)), `${what}: label names must be strings`);
        continue;
      }
      if (!isScalar(v) || !['string', 'number', 'boolean'].includes(typeof v.value)) {
        this.typeError(v, `${what}.${clip(k.value)}`, 'a string, number or boolean', this.at(k));
        continue;
      }
      out[k.value] = String(v.value);
    }
    return out;
  }

  isMap(node: YNode): boolean {
    return isMap(node);
  }

  scalarString(node: YNode): string | undefined {
    return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
  }
}

function rangeStart(node: YNode | Pair): number | undefined {
  if (node === null || node === undefined) return undefined;
  if ('range' in node && Array.isArray(node.range)) {
    const start = node.range[0];
    return typeof start === 'number' ? start : undefined;
  }
  if ('key' in node) return rangeStart(node.key as YNode);
  return undefined;
}

function describe(node: YNode): string {
  if (node === null || node === undefined) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'empty';
    if (typeof v === 'string') return `the string "${clip(v)}"`;
    return `${typeof v} ${clip(String(v))}`;
  }
  return 'something else';
}

export function clip(s: string): string {
  const printable = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return printable.length > 60 ? `${printable.slice(0, 57)}...` : printable;
}
