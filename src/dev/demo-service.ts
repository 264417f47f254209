// The demo service: a small HTTP app with /healthz, /metrics and a fault switch, used by the
// embedded demo and the tests. It counts remediation requests by Idempotency-Key, so tests can
// prove an action was applied exactly once. Never loaded in production mode.
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';

export const FaultSchema = z.enum(['none', 'outage', 'stubborn', 'broken-remediation']);
export type Fault = z.infer<typeof FaultSchema>;

export interface DemoServiceOptions {
  /** Extra latency of /remediate, to keep an action in flight (crash tests). */
  remediateDelayMs?: number;
  /** Bearer token /remediate and /admin/* require. */
  token?: string;
}

export interface DemoService {
  app: FastifyInstance;
  url: string;
  state: { fault: Fault; applied: Record<string, number>; requests: Record<string, number> };
  close(): Promise<void>;
}

export async function startDemoService(port = 0, opts: DemoServiceOptions = {}): Promise<DemoService> {
  const app = Fastify({ logger: false });
  const state: DemoService['state'] = { fault: 'none', applied: {}, requests: {} };
  const replies = new Map<string, { status: number; body: unknown }>();
  const registry = new Registry();
  // Read at scrape time, so any way the fault changes (API, drill, test) shows in the metric.
  new Gauge({
    name: 'demo_up',
    help: '1 when the demo service is healthy',
    registers: [registry],
    collect() {
      this.set(state.fault === 'none' ? 1 : 0);
    },
  });
  const remediations = new Counter({
    name: 'demo_remediations_total',
    help: 'Remediations applied (distinct idempotency keys)',
    registers: [registry],
  });

  const authorized = (header: string | undefined): boolean => !opts.token || header === `Bearer ${opts.token}`;
  app.addHook('onRequest', async (req, reply) => {
    if ((req.url.startsWith('/admin') || req.url.startsWith('/remediate')) && !authorized(req.headers.authorization)) {
      await reply.code(401).send({ error: 'unauthorized' });
    }
  });

  app.get('/healthz', async (_req, reply) =>
    state.fault === 'none' ? { status: 'ok' } : reply.code(503).send({ status: 'unhealthy', fault: state.fault }),
  );
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/admin/state', async () => state);
  app.post('/admin/fault', async (req, reply) => {
    const parsed = z.object({ fault: FaultSchema }).safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: 'body must be {"fault": "none|outage|stubborn|broken-remediation"}' });
    state.fault = parsed.data.fault;
    return { fault: state.fault };
  });
  app.post('/remediate', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0) return reply.code(400).send({ error: 'Idempotency-Key header required' });
    state.requests[key] = (state.requests[key] ?? 0) + 1;
    const earlier = replies.get(key);
    if (earlier) return reply.code(earlier.status).send({ ...(earlier.body as object), replayed: true });
    if (opts.remediateDelayMs) await new Promise((r) => setTimeout(r, opts.remediateDelayMs));
    const again = replies.get(key); // a concurrent retry may have finished meanwhile
    if (again) return reply.code(again.status).send({ ...(again.body as object), replayed: true });
    let result: { status: number; body: unknown };
    if (state.fault === 'broken-remediation') {
      result = { status: 500, body: { error: 'remediation failed: restart script crashed' } };
    } else {
      state.applied[key] = (state.applied[key] ?? 0) + 1;
      remediations.inc();
      const before = state.fault;
      if (state.fault === 'outage') state.fault = 'none';
      result = { status: 200, body: { restarted: true, before, after: state.fault } };
    }
    replies.set(key, result);
    return reply.code(result.status).send(result.body);
  });

  const address = await app.listen({ port, host: '127.0.0.1' });
  return { app, url: address, state, close: () => app.close() };
}
