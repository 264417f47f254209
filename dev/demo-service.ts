// The demo service: a small HTTP app with /healthz, /metrics and a fault switch, used by the
// embedded demo and the tests. It counts remediation requests by Idempotency-Key, so tests can
// prove an action was applied exactly once, and it plays a traffic manager (the weight API that
// playbooks/lb-weight-shift.yaml calls). It records every request line it receives, and verifies
// medic's HMAC request signature when given the key. Never loaded in production mode.
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
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
  /** Bearer token /remediate, /admin/* and /v1/* require. */
  token?: string;
  /** Key of medic's HMAC signature (params.hmac): /remediate and /v1/* then require a valid one. */
  hmacKey?: string;
  /** Called as each request arrives (not /metrics, /healthz), with the time it arrived
   * (performance.timeOrigin + performance.now()): benches time alert → action received here. */
  onRequest?: (req: { method: string; url: string; headers: Record<string, unknown> }, at: number) => void;
}

const SIGNATURE_MAX_AGE_S = 300;
const LOG_CAP = 500;

/** Verifies x-signature = hex HMAC-SHA256(key, timestamp \n METHOD \n path?query \n body), the
 * format medic signs with (activities/http.ts): the path is the request line's, as received. */
export function signatureValid(key: string, req: { method: string; url: string; headers: Record<string, string | string[] | undefined> }, body: string, nowS = Date.now() / 1000): boolean {
  const ts = req.headers['x-signature-timestamp'];
  const sig = req.headers['x-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts) || Math.abs(nowS - Number(ts)) > SIGNATURE_MAX_AGE_S) return false;
  const expected = createHmac('sha256', key).update(`${ts}\n${req.method.toUpperCase()}\n${req.url}\n${body}`).digest();
  const given = Buffer.from(sig, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface DemoService {
  app: FastifyInstance;
  url: string;
  state: {
    fault: Fault;
    applied: Record<string, number>;
    requests: Record<string, number>;
    latencyMs: number;
    dryRuns: number;
    /** Traffic weights set through PUT /v1/services/:service/pools/:pool/weight, by "service/pool". */
    weights: Record<string, { weight: number; reason?: string }>;
    /** The last requests received (not /metrics, /healthz): request line, headers, raw body, and
     * whether the signature held (when hmacKey is set). */
    log: { method: string; url: string; headers: Record<string, unknown>; body?: string; signed?: boolean }[];
  };
  close(): Promise<void>;
}

export async function startDemoService(port = 0, opts: DemoServiceOptions = {}): Promise<DemoService> {
  const app = Fastify({ logger: false });
  const state: DemoService['state'] = { fault: 'none', applied: {}, requests: {}, latencyMs: 1_500, dryRuns: 0, weights: {}, log: [] };
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
  const logged = new WeakMap<FastifyRequest, DemoService['state']['log'][number]>();
  const guarded = (url: string): boolean => url.startsWith('/admin') || url.startsWith('/remediate') || url.startsWith('/v1/');
  app.addHook('onRequest', async (req, reply) => {
    if (req.url !== '/metrics' && req.url !== '/healthz') {
      opts.onRequest?.({ method: req.method, url: req.url, headers: req.headers }, performance.timeOrigin + performance.now());
      const entry = { method: req.method, url: req.url, headers: { ...req.headers } };
      logged.set(req, entry);
      state.log.push(entry);
      if (state.log.length > LOG_CAP) state.log.shift();
    }
    if (guarded(req.url) && !authorized(req.headers.authorization)) {
      await reply.code(401).send({ error: 'unauthorized' });
    }
  });
  // Signatures are over the body exactly as sent: keep the raw text beside the parsed JSON.
  const raw = new WeakMap<FastifyRequest, string>();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, text, done) => {
    raw.set(req, text as string);
    try {
      done(null, text === '' ? undefined : JSON.parse(text as string));
    } catch (err) {
      (err as { statusCode?: number }).statusCode = 400;
      done(err as Error, undefined);
    }
  });
  app.addHook('preHandler', async (req, reply) => {
    const entry = logged.get(req);
    const body = raw.get(req);
    if (entry && body !== undefined) entry.body = body;
    if (!opts.hmacKey || !(req.url.startsWith('/remediate') || req.url.startsWith('/v1/'))) return;
    const ok = signatureValid(opts.hmacKey, req, body ?? '');
    if (entry) entry.signed = ok;
    if (!ok) await reply.code(401).send({ error: 'bad or missing signature' });
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

  // A traffic manager's weight API (playbooks/lb-weight-shift.yaml): server-side dry run as above.
  app.put('/v1/services/:service/pools/:pool/weight', async (req, reply) => {
    const { service, pool } = req.params as { service: string; pool: string };
    const parsed = z.object({ weight: z.number().int().min(0).max(100), reason: z.string().optional() }).safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: 'body must be {"weight": 0..100, "reason"?: string}' });
    if (req.headers['x-dry-run'] === 'true') {
      state.dryRuns += 1;
      return reply.header('medic-would-heal', 'true').send({ dryRun: true, service, pool, weight: parsed.data.weight });
    }
    state.weights[`${service}/${pool}`] = { weight: parsed.data.weight, ...(parsed.data.reason !== undefined ? { reason: parsed.data.reason } : {}) };
    return { service, pool, weight: parsed.data.weight };
  });

  const address = await app.listen({ port, host: '127.0.0.1' });
  return { app, url: address, state, close: () => app.close() };
}
