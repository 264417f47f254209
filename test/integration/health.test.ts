// Probe endpoints the Helm chart and the compose file use: the server's /healthz and /readyz
// (ready only while Temporal answers) and the worker's health server (ready only while both of
// its Temporal workers run), on a real Temporal dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema } from '../../src/config.js';
import { freePort } from '../../dev/ports.js';
import { buildServer } from '../../src/server/app.js';
import { startHealthServer, workerReadiness } from '../../src/temporal/health.js';
import { silentLog } from '../support/fixtures.js';
import { devServerEnv, medicWorker, uniqueQueue } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const config = ConfigSchema.parse({ intake: { alertmanagerToken: 'intake-token-0123456789' }, http: { port: 0 } });

async function probe(url: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('server probes', () => {
  it('/healthz and /readyz answer 200 while Temporal answers', async () => {
    const server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => [] });
    try {
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      expect(await probe(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await probe(`${url}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
    } finally {
      await server.close();
    }
  });

  it('/readyz answers 503 with the reason when Temporal is unreachable, while /healthz stays 200', async () => {
    const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    let server: FastifyInstance | undefined;
    try {
      server = await buildServer({ config, client: new Client({ connection }), log: silentLog, playbooks: () => [] });
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      const started = Date.now();
      const ready = await probe(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toMatch(/^Temporal unreachable: /);
      expect(Date.now() - started).toBeLessThan(10_000); // bounded (2 s deadline), inside a probe's timeout
      expect((await probe(`${url}/healthz`)).status).toBe(200);
    } finally {
      await server?.close();
      await connection.close();
    }
  });
});

describe('worker health server', () => {
  it('/readyz is 503 before the worker runs, 200 while it polls, 503 after shutdown; /healthz is 200', async () => {
    const worker = await medicWorker(env, uniqueQueue('health'));
    const health = await startHealthServer({ port: 0, host: '127.0.0.1', ready: workerReadiness(() => worker.states()) });
    const url = `http://127.0.0.1:${health.port}`;
    try {
      const before = await probe(`${url}/readyz`);
      expect(before.status).toBe(503);
      expect(before.body.reason).toBe('workers not running (incidents INITIALIZED, governor INITIALIZED)');
      await worker.runUntil(async () => {
        // poll: the states flip to RUNNING once run() has started both workers
        const deadline = Date.now() + 30_000;
        let ready = await probe(`${url}/readyz`);
        while (ready.status !== 200 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          ready = await probe(`${url}/readyz`);
        }
        expect(ready).toEqual({ status: 200, body: { status: 'ready' } });
        expect(await probe(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
      });
      const after = await probe(`${url}/readyz`);
      expect(after.status).toBe(503);
      expect(after.body.reason).toMatch(/incidents (STOPPED|DRAINED|DRAINING|STOPPING)/);
      expect((await fetch(`${url}/other`)).status).toBe(404);
    } finally {
      await health.close();
    }
  });
});
