// When Temporal is unreachable the intake answers 503 with Retry-After (Alertmanager then
// retries) instead of falling over, and keeps answering.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema } from '../../src/config.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { freePort } from '../../dev/ports.js';
import { buildServer } from '../../src/server/app.js';
import { demoPlaybook, silentLog } from '../support/fixtures.js';

let server: FastifyInstance;
let url: string;
let connection: Connection;
const TOKEN = 'intake-token-0123456789';

beforeAll(async () => {
  // a port nothing listens on: every Temporal call fails
  connection = await Connection.connect({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 }).catch(() => Connection.lazy({ address: '127.0.0.1:1' }));
  const client = new Client({ connection });
  const config = ConfigSchema.parse({ intake: { alertmanagerToken: TOKEN }, http: { port: 0 } });
  server = await buildServer({ config, client, log: silentLog, playbooks: () => [demoPlaybook('http://127.0.0.1:9')] });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server?.close();
  await connection?.close();
});

it('answers 503 + Retry-After while Temporal is unreachable, and stays up', async () => {
  for (let i = 0; i < 3; i++) {
    const started = Date.now();
    const res = await fetch(`${url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service: `s${i}` }, new Date().toISOString())),
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(8_000); // inside Alertmanager's 10 s webhook timeout
    expect(res.headers.get('retry-after')).toBe('10');
    expect(((await res.json()) as { error: string }).error).toContain('cannot reach Temporal');
  }
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
}, 120_000);
