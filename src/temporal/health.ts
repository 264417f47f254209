// The worker's probe endpoints (it has no HTTP server of its own): GET /healthz answers while
// the process runs, GET /readyz only while both Temporal workers are RUNNING. Kubernetes and
// compose health checks use them; nothing else is served.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** `ready` returns undefined when ready, else the reason it is not. */
export async function startHealthServer(o: { port: number; host?: string; ready: () => string | undefined }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: Record<string, string>): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'GET only' });
    if (path === '/healthz') return send(200, { status: 'ok' });
    if (path === '/readyz') {
      const reason = o.ready();
      return reason === undefined ? send(200, { status: 'ready' }) : send(503, { status: 'not ready', reason });
    }
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Readiness of a medic worker from its Temporal workers' states. */
export function workerReadiness(states: () => { incidents: string; governor: string }): () => string | undefined {
  return () => {
    const s = states();
    return s.incidents === 'RUNNING' && s.governor === 'RUNNING' ? undefined : `workers not running (incidents ${s.incidents}, governor ${s.governor})`;
  };
}
