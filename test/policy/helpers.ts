import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh, valid "ssh-ed25519 BASE64 comment" line (RFC 8709 §4 blob layout). */
export function ed25519Line(comment = 'test'): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.from(String(jwk.x), 'base64url');
  const name = Buffer.from('ssh-ed25519');
  const blob = Buffer.alloc(4 + name.length + 4 + raw.length);
  blob.writeUInt32BE(name.length, 0);
  name.copy(blob, 4);
  blob.writeUInt32BE(raw.length, 4 + name.length);
  raw.copy(blob, 8 + name.length);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

export function tempDir(prefix = 'gatehouse-policy-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const ALICE_KEY = ed25519Line('alice@laptop');
export const BOB_KEY = ed25519Line('bob@laptop');
export const HOST_KEY = ed25519Line('db1-host');

/** A valid policy used as the base of many tests. */
export function basePolicy(): string {
  return `users:
  - name: alice
    keys: ["${ALICE_KEY}"]
    groups: [ops]
  - name: bob
    keys: ["${BOB_KEY}"]
    groups: [dev]
  - name: carol@example.com
    oidc: true
  - name: dave
    keys: []
    groups: [ops]
    requireSso: true
  - name: erin
    groups: [interns]
targets:
  - name: db1
    address: 10.0.0.5
    port: 22
    aliases: [db1.internal]
    hostKeys: ["${HOST_KEY}"]
    labels: { env: prod, role: db }
  - name: web1
    address: 10.0.0.6
    port: 2200
    hostCA: "${HOST_KEY}"
    labels: { env: dev }
  - name: web2
    address: 10.0.0.6
    port: 2201
    knownHosts: known_hosts
    labels: { env: dev }
rules:
  - name: ops-prod
    groups: [ops]
    targets: { labels: { env: prod } }
    logins: [root, postgres]
    allow: [shell, exec, sftp, port-forward]
    recording: { input: true }
  - name: dev-web
    users: [bob]
    targets: { names: [web1, WEB2] }
    logins: [deploy]
    allow: [shell]
    env: [LANG, LC_*]
  - name: sso-admins
    oidcGroups: [admins]
    targets: "*"
    logins: [admin]
    allow: [shell, exec]
    requireSso: true
    recording: { onFailure: continue }
  - name: carol-web
    users: [carol@example.com]
    targets: { names: [web1] }
    logins: [carol]
    allow: [exec]
`;
}
