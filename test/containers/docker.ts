// Does a Docker engine answer? Asked directly (GET /_ping with a 2 s limit) so that machines
// without Docker skip the container suite at once instead of waiting on testcontainers' probes.
import { existsSync } from 'node:fs';
import { request } from 'node:http';

export interface DockerProbe {
  readonly available: boolean;
  readonly reason: string;
}

function ping(options: { socketPath: string } | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...options, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function probeDocker(env: NodeJS.ProcessEnv = process.env): Promise<DockerProbe> {
  const host = env['DOCKER_HOST'];
  if (host?.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    const ok = await ping({ host: url.hostname, port: Number(url.port || 2375) });
    return { available: ok, reason: ok ? '' : `no Docker engine answers at ${host}` };
  }
  const socketPath = host?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock';
  if (!existsSync(socketPath)) return { available: false, reason: `no Docker socket at ${socketPath} (set DOCKER_HOST to use another engine)` };
  const ok = await ping({ socketPath });
  return { available: ok, reason: ok ? '' : `the Docker socket ${socketPath} does not answer` };
}
