/**
 * Policy routes on the admin listener (token-protected): what policy is in force, and a reload
 * trigger for operators who cannot send SIGHUP (containers, another host).
 */
import { formatIssue } from '../policy/errors.js';
import type { PolicyStore } from '../policy/store.js';
import { sendJson } from './http.js';
import type { AdminServer } from './server.js';

export function registerPolicyRoutes(admin: AdminServer, store: PolicyStore): () => void {
  const offShow = admin.route({
    methods: ['GET'],
    path: '/api/policy',
    handler: (_req, res) => {
      const p = store.current;
      sendJson(res, 200, {
        version: p.version,
        digest: p.digest,
        files: p.files,
        users: p.users.map((u) => ({ name: u.name, oidc: u.oidc, groups: u.groups, keys: u.keys.map((k) => k.fingerprint) })),
        targets: p.targets.map((t) => ({ name: t.name, address: t.address, port: t.port, aliases: t.aliases, labels: t.labels })),
        rules: p.rules.map((r) => ({ name: r.name, logins: r.logins, allow: r.allow })),
      });
    },
  });
  const offReload = admin.route({
    methods: ['POST'],
    path: '/api/policy/reload',
    handler: (_req, res) => {
      const outcome = store.reload('manual');
      if (outcome.applied) sendJson(res, 200, { result: 'applied', version: outcome.policy.version });
      else if (outcome.unchanged) sendJson(res, 200, { result: 'unchanged', version: store.current.version });
      else sendJson(res, 422, { result: 'rejected', version: store.current.version, errors: outcome.issues.map(formatIssue) });
    },
  });
  return () => {
    offShow();
    offReload();
  };
}
