/**
 * Client authentication through a running ssh-agent (SSH_AUTH_SOCK): every identity the agent
 * holds becomes a ClientSigner whose signatures the agent makes (with the rsa-sha2-256/512
 * flags for RSA keys). Certificates held by the agent sign with their -cert-v01 names.
 */
import { parsePublicKeyBlob } from '../keys/public-key.js';
import { signatureAlgorithmsFor } from '../keys/signature.js';
import { AgentClient } from './agent-client.js';
import type { ClientSigner } from './client-connection.js';

export interface AgentSigners {
  readonly signers: readonly ClientSigner[];
  /** Closes the agent connection (after authentication). */
  close(): void;
}

/** Lists the agent's identities as signers; keys of types we cannot use are skipped. */
export async function agentSigners(socket = process.env['SSH_AUTH_SOCK']): Promise<AgentSigners> {
  const agent = await AgentClient.connect(socket);
  const signers: ClientSigner[] = [];
  for (const id of await agent.listIdentities()) {
    let algorithms: string[];
    try {
      algorithms = signatureAlgorithmsFor(parsePublicKeyBlob(id.keyBlob));
    } catch {
      continue; // e.g. security-key types we do not implement
    }
    signers.push({
      publicKeyBlob: id.keyBlob,
      algorithms,
      sign: (algorithm, data) => agent.sign(id.keyBlob, data, algorithm),
    });
  }
  return { signers, close: () => agent.close() };
}
