// The demo service: a small HTTP app with /healthz, /metrics and a fault switch, used by the
// embedded demo and the tests. It counts remediation requests by Idempotency-Key, so tests can
// prove an action was applied exactly once. Never loaded in production mode.
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { z } from 'zod';

// outage: down, a restart heals it. stubborn: restarts do not help. broken-remediation: the
// restart endpoint crashes, a hard restart (?mode=hard) heals. latency / errors: /healthz slow or
// failing with 500s (drills), a restart heals.
export const FaultSchema = z.enum(['none', 'outage', 'stubborn', 'broken-remediation', 'latency', 'errors']);
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
  state: { fault: Fault; applied: Record<string, number>; requests: Record<string, number>; latencyMs: number; dryRuns: number };
  close(): Promise<void>;
}

export async function startDemoService(port = 0, opts: DemoServiceOptions = {}): Promise<DemoService> {
  const app = Fastify({ logger: false });
  const state: DemoService['state'] = { fault: 'none', applied: {}, requests: {}, latencyMs: 1_500, dryRuns: 0 };
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

  app.get('/healthz', async (_req, reply) => {
    if (state.fault === 'none') return { status: 'ok' };
    if (state.fault === 'latency') {
      await new Promise((r) => setTimeout(r, state.latencyMs));
      return reply.code(503).send({ status: 'too slow', fault: state.fault, latencyMs: state.latencyMs });
    }
    return reply.code(state.fault === 'errors' ? 500 : 503).send({ status: 'unhealthy', fault: state.fault });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/admin/state', async () => state);
  app.post('/admin/fault', async (req, reply) => {
    const parsed = z.object({ fault: FaultSchema, latencyMs: z.number().int().min(0).max(60_000).optional() }).safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: `body must be {"fault": "${FaultSchema.options.join('|')}", "latencyMs"?: n}` });
    state.fault = parsed.data.fault;
    if (parsed.data.latencyMs !== undefined) state.latencyMs = parsed.data.latencyMs;
    return { fault: state.fault, latencyMs: state.latencyMs };
  });
  // What a restart would do now: the body and status it would answer, and whether it would heal.
  const outcome = (hard: boolean): { status: number; heals: boolean } => {
    if (state.fault === 'broken-remediation' && !hard) return { status: 500, heals: false };
    return { status: 200, heals: state.fault !== 'stubborn' };
  };
  app.post('/remediate', async (req, reply) => {
    const hard = (req.query as { mode?: string }).mode === 'hard';
    // Server-side dry run (medic's `dryRunHeader`): answer what would happen, change nothing.
    if (req.headers['x-dry-run'] === 'true') {
      state.dryRuns += 1;
      const o = outcome(hard);
      return reply.code(o.status).header('medic-would-heal', String(o.heals)).send({ dryRun: true, fault: state.fault, wouldHeal: o.heals });
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0) return reply.code(400).send({ error: 'Idempotency-Key header required' });
    state.requests[key] = (state.requests[key] ?? 0) + 1;
    const earlier = replies.get(key);
    if (earlier) return reply.code(earlier.status).send({ ...(earlier.body as object), replayed: true });
    if (opts.remediateDelayMs) await new Promise((r) => setTimeout(r, opts.remediateDelayMs));
    const again = replies.get(key); // a concurrent retry may have finished meanwhile
    if (again) return reply.code(again.status).send({ ...(again.body as object), replayed: true });
    let result: { status: number; body: unknown };
    const o = outcome(hard);
    if (o.status !== 200) {
      result = { status: 500, body: { error: 'remediation failed: restart script crashed' } };
    } else {
      state.applied[key] = (state.applied[key] ?? 0) + 1;
      remediations.inc();
      const before = state.fault;
      if (o.heals) state.fault = 'none';
      result = { status: 200, body: { restarted: true, ...(hard ? { hard } : {}), before, after: state.fault } };
    }
    replies.set(key, result);
    return reply.code(result.status).send(result.body);
  });

  const address = await app.listen({ port, host: '127.0.0.1' });
  return { app, url: address, state, close: () => app.close() };
}
