/**
 * Target resolution: the name a client asked for (ProxyJump host, routing user name, menu
 * choice) → one inventory target. Names and aliases are case-insensitive; an address matches
 * with its port. Anything not in the inventory is not reachable.
 */
import type { Policy, PolicyTarget, TargetSelector } from './types.js';

export type TargetLookup =
  | { readonly kind: 'found'; readonly target: PolicyTarget }
  | { readonly kind: 'not-found'; readonly reason: string }
  | { readonly kind: 'ambiguous'; readonly reason: string; readonly candidates: readonly PolicyTarget[] };

/**
 * @param port the port the client asked for, if any. With a name or alias it may be 22 or the
 *   target's own port (ssh -J sends 22 unless told otherwise); with an address it must be the
 *   target's port.
 */
export function resolveTarget(policy: Policy, host: string, port?: number): TargetLookup {
  const key = host.toLowerCase();
  const byName = policy.targets.find((t) => t.name.toLowerCase() === key || t.aliases.some((a) => a.toLowerCase() === key));
  if (byName) {
    if (port !== undefined && port !== 22 && port !== byName.port) {
      return { kind: 'not-found', reason: `target ${byName.name} is not served on port ${port}` };
    }
    return { kind: 'found', target: byName };
  }
  let byAddress = policy.targets.filter((t) => t.address.toLowerCase() === key);
  if (port !== undefined) byAddress = byAddress.filter((t) => t.port === port);
  const [only, second] = byAddress;
  if (only && !second) return { kind: 'found', target: only };
  if (only) {
    return {
      kind: 'ambiguous',
      reason: `${host} is the address of several targets (${byAddress.map((t) => t.name).join(', ')}); name one`,
      candidates: byAddress,
    };
  }
  const shown = port === undefined ? host : `${host}:${port}`;
  return { kind: 'not-found', reason: `no target named ${shown} in the inventory` };
}

export function selectorMatches(selector: TargetSelector, target: PolicyTarget): boolean {
  switch (selector.kind) {
    case 'all':
      return true;
    case 'names': {
      const names = [target.name, ...target.aliases].map((n) => n.toLowerCase());
      return selector.names.some((n) => names.includes(n.toLowerCase()));
    }
    case 'labels':
      return Object.entries(selector.labels).every(([k, v]) => Object.hasOwn(target.labels, k) && target.labels[k] === v);
    default: {
      const never: never = selector;
      throw new Error(`unknown selector ${String(never)}`);
    }
  }
}

/** Every name a target answers to: what a host certificate for it lists as principals. */
export function targetNames(target: PolicyTarget): string[] {
  return [...new Set([target.name, ...target.aliases, target.address])];
}
