// medic's HTTP server: alert intake (Alertmanager webhook v4) and the operator API the CLI uses.
// Bad input gets a 4xx that names the problem, and nothing is started.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { intakeTokenOf, type Config, type Operator, type Scope } from '../config.js';
import { incidentsApi, NotFoundError, RejectedError } from '../incidents/api.js';
import type { AuditLog } from '../audit/log.js';
import type { Registry } from 'prom-client';
import { medicRegistry } from '../store/metrics.js';
import type { IncidentStore } from '../store/store.js';
import { postmortemRoute } from '../postmortem/route.js';
import type { Playbook } from '../playbooks/schema.js';
import { authenticate, bearer, hasScope, missingScope, sameSecret, warnPlaintextTokens } from './auth.js';
import { mayDecide, mayResolve, mayTake, type Actor, type Right } from '../incidents/rights.js';
import { webhookRoutes } from './webhooks.js';
import { intakeDeliveryDeps } from '../intake/setup.js';
import { IntakeGuard, intakeCounters } from '../intake/guard.js';
import { DEFAULT_INTAKE_LIMITS } from '../intake/limits.js';
import { createSlackApp } from '../slack/app.js';
import type { Runbook } from '../runbooks/schema.js';
import type { DrillScenario } from '../drills/schema.js';
import { drillsApi } from '../drills/api.js';
import { registerDrillMetrics } from '../drills/metrics.js';
import { drillRoutes } from './drills.js';
import { configuredIdentityKey } from '../identity/key.js';
import { runbookRoutes } from './runbooks.js';

export interface ServerDeps {
  config: Config;
  client: Client;
  log: Logger;
  playbooks: () => Playbook[];
  /** Runbooks `/medic run` may start in Slack. */
  runbooks?: () => Runbook[];
  /** Chaos drill scenarios (drills/); what they may break comes from config.drills.targets. */
  drills?: () => DrillScenario[];
  onIncident?: (workflowId: string) => void;
  /** The tamper-evident audit log; kill-switch changes are written to it. */
  audit?: AuditLog;
  /** Metrics for GET /metrics (KPIs from the incident store); default: Node process metrics only.
   * Served here only with metrics.listener: public (behind metrics.token); otherwise by
   * buildMetricsServer (src/server/metrics.ts) on its own listener. */
  metrics?: Registry;
  /** The incident store: GET /api/incidents/:id/postmortem. */
  store?: IncidentStore;
  /** Signs who decides/takes/resolves (src/identity/sign.ts); default: the config's identityKey. */
  identityKey?: Buffer;
}

const issuesOf = (err: z.ZodError): { path: string; message: string }[] =>
  err.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));

const DecisionBody = z.strictObject({ reason: z.string().max(2000).optional(), step: z.number().int().min(0).optional() });
const PauseBody = z.strictObject({ reason: z.string().max(500).optional() });
const ResolveBody = z.strictObject({ reason: z.string().max(2000).optional() });
const TakeBody = z.strictObject({});
const DeploymentBody = z.strictObject({ target: z.string().min(1), minutes: z.number().positive().max(24 * 60).nullable() });

declare module 'fastify' {
  interface FastifyRequest {
    operator?: Operator;
  }
  interface FastifyContextConfig {
    /** The operator API scope the route needs (every /api route has one; see guard()). */
    scope?: Scope;
  }
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, log } = deps;
  const app = Fastify({ loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger, bodyLimit: config.http.bodyLimitBytes });
  const identityKey = deps.identityKey ?? configuredIdentityKey(config);
  const api = incidentsApi(deps.client, config.temporal.taskQueue, { ...(deps.audit ? { audit: deps.audit } : {}), ...(identityKey ? { identityKey } : {}) });
  const intakeToken = intakeTokenOf(config);

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return reply.code(413).send({ error: `payload too large (limit ${config.http.bodyLimitBytes} bytes)` });
    if (status === 415) return reply.code(415).send({ error: 'content-type must be application/json' });
    if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    req.log.error({ err }, 'request failed');
    // Temporal unreachable: tell the sender to come back (Alertmanager retries on 5xx).
    return reply.code(503).header('retry-after', '10').send({ error: 'medic cannot reach Temporal right now; retry later' });
  });

  warnPlaintextTokens(config.operators, log);
  // Every operator API route needs a known, unexpired token with the route's scope. The scope is
  // declared per route (config.scope), else given by the plugin's rule, so no route goes unchecked.
  // Refusals of a known operator (expired token, missing scope, no right on the incident) are
  // audited; unknown tokens are only logged, so nobody can fill the audit log without a token.
  const auditRefusal = (req: FastifyRequest, who: string, why: string, incidentId: string | null = null): void => {
    deps.audit?.append([
      {
        at: new Date().toISOString(),
        incidentId,
        seq: null,
        kind: 'refusal',
        who,
        what: `operator API refused ${req.method} ${req.routeOptions.url ?? req.url}`,
        why,
        target: incidentId ?? req.routeOptions.url ?? req.url,
        before: 'unchanged',
        after: 'unchanged',
        data: { route: req.routeOptions.url ?? null },
      },
    ]);
  };
  const authorize = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = authenticate(config.operators, bearer(req.headers.authorization));
    if (!auth.ok) {
      req.log.warn({ user: auth.user, route: req.routeOptions.url }, `operator API: ${auth.user ? 'expired' : 'unknown or missing'} token refused`);
      if (auth.user) auditRefusal(req, auth.user, auth.error);
      await reply.code(401).header('www-authenticate', 'Bearer realm="medic"').send({ error: auth.error });
      return;
    }
    const scope = req.routeOptions.config.scope;
    const missing = scope ? missingScope(auth.operator, scope) : 'this route declares no scope (refused)';
    if (missing) {
      auditRefusal(req, auth.operator.user, missing);
      await reply.code(403).send({ error: missing, ...(scope ? { missingScope: scope } : {}) });
      return;
    }
    req.operator = auth.operator;
  };
  const guard = (instance: FastifyInstance, scopeOf: (method: string) => Scope): void => {
    instance.addHook('onRoute', (route) => {
      const method = Array.isArray(route.method) ? route.method[0]! : route.method;
      route.config = { ...(route.config ?? {}), scope: route.config?.scope ?? scopeOf(method) };
    });
    instance.addHook('onRequest', authorize);
  };
  const user = (req: FastifyRequest): string => req.operator?.user ?? 'unknown';
  const actor = (req: FastifyRequest): Actor => ({ user: user(req), groups: req.operator?.groups ?? [], admin: req.operator ? hasScope(req.operator, 'admin') : false });
  /** Runs an incident operation after the Slack-equivalent rights check (src/incidents/rights.ts). */
  type Status = Awaited<ReturnType<typeof api.status>>;
  const onIncident = async <T>(req: FastifyRequest, reply: FastifyReply, check: (a: Actor, st: Status) => Right, run: (id: string, via: string | undefined, st: Status) => Promise<T>) => {
    const id = (req.params as { id: string }).id;
    try {
      const status = await api.status(id);
      const right = check(actor(req), status);
      if (!right.ok) {
        req.log.warn({ user: user(req), incident: id, route: req.routeOptions.url }, `operator API refused: ${right.why}`);
        auditRefusal(req, user(req), right.why, status.incidentId);
        return reply.code(403).send({ error: right.why });
      }
      return await run(id, right.via, status);
    } catch (err) {
      if (err instanceof NotFoundError) return reply.code(404).send({ error: err.message });
      if (err instanceof RejectedError) return reply.code(409).send({ error: err.message });
      throw err;
    }
  };

  // Liveness: the process serves requests. Readiness: Temporal answers too, so a pod that could
  // not start incidents is taken out of the Service instead of answering webhooks with 503s.
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await deps.client.connection.withDeadline(Date.now() + 2_000, () => deps.client.workflowService.getSystemInfo({}));
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'not ready', reason: `Temporal unreachable: ${(err as Error).message}` });
    }
  });
  const metrics = deps.metrics ?? medicRegistry();
  if (deps.drills) registerDrillMetrics(metrics, deps.client, config.temporal.taskQueue);
  const drills = drillRoutes(
    drillsApi({ client: deps.client, taskQueue: config.temporal.taskQueue, scenarios: deps.drills ?? (() => []), targets: config.drills?.targets ?? {}, playbooks: deps.playbooks }),
    (req) => user(req),
  );
  // Only on request: by default /metrics has a listener of its own and this one answers 404.
  if (config.metrics.listener === 'public') {
    const token = config.metrics.token ?? '';
    app.get('/metrics', async (req, reply) => {
      if (!sameSecret(bearer(req.headers.authorization), token)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="medic-metrics"').send({ error: 'missing or wrong metrics token (metrics.token)' });
      }
      return reply.type(metrics.contentType).send(await metrics.metrics());
    });
  }
  // Slack interactivity, slash commands and events (POST /slack/events), signature-checked.
  if (config.slack) {
    await app.register(
      createSlackApp({
        slack: config.slack,
        client: deps.client,
        taskQueue: config.temporal.taskQueue,
        log,
        playbooks: deps.playbooks,
        ...(deps.audit ? { audit: deps.audit } : {}),
        ...(deps.runbooks ? { runbooks: deps.runbooks } : {}),
        ...(identityKey ? { identityKey } : {}),
      }).plugin,
    );
  }

  const limits = config.intake?.limits ?? DEFAULT_INTAKE_LIMITS;
  app.register(webhookRoutes, {
    token: intakeToken,
    ...(config.intake?.hmacSecret ? { hmacSecret: config.intake.hmacSecret } : {}),
    guard: new IntakeGuard(limits, deps.audit, intakeCounters(metrics)),
    ingest: intakeDeliveryDeps(config, { client: deps.client, playbooks: deps.playbooks, ...(deps.store ? { store: true } : {}), ...(deps.onIncident ? { onIncident: deps.onIncident } : {}) }),
  });

  app.register(async (ops) => {
    guard(ops, (method) => (method === 'GET' || method === 'HEAD' ? 'read' : 'operate'));
    ops.get('/api/incidents', async (req) => {
      const all = (req.query as { all?: string }).all === 'true';
      return { incidents: await api.list({ all }) };
    });
    ops.get('/api/incidents/:id', async (req, reply) => {
      try {
        return await api.detail((req.params as { id: string }).id);
      } catch (err) {
        if (err instanceof NotFoundError) return reply.code(404).send({ error: err.message });
        throw err;
      }
    });
    for (const decision of ['approve', 'deny'] as const) {
      ops.post(`/api/incidents/:id/${decision}`, async (req, reply) => {
        const body = DecisionBody.safeParse(req.body ?? {});
        if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
        // Approvers as in Slack: listed by user, or by a group the operator belongs to (via).
        return onIncident(req, reply, mayDecide, (id, via) => api.decide(id, { decision, user: user(req), ...body.data, ...(via ? { via } : {}) }));
      });
    }
    // Take an escalated incident from the slack-group rung waiting now: the ladder stops there.
    ops.post('/api/incidents/:id/take', async (req, reply) => {
      const body = TakeBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
      // The rung waiting now (none: the workflow's validator says it is not waiting for anyone).
      return onIncident(req, reply, mayTake, (id, via, st) => api.take(id, { user: user(req), rung: st.ladder?.waiting?.rung ?? -1, ...(via ? { via } : {}) }));
    });
    // A person resolves the incident: it ends as resolved by them; a PagerDuty page is resolved.
    // Who may: as in Slack (whoever took it, its escalation groups, admins).
    ops.post('/api/incidents/:id/resolve', async (req, reply) => {
      const body = ResolveBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
      return onIncident(req, reply, mayResolve, (id) => api.resolve(id, { user: user(req), ...body.data }));
    });
    ops.get('/api/governor', async () => api.governorState());
    if (deps.store) postmortemRoute(ops, deps.store, { temporalUiUrl: config.temporal.uiUrl, namespace: config.temporal.namespace });
    drills.operator(ops);
    // Only a runbook's runners may start it (src/server/runbooks.ts).
    runbookRoutes({ client: deps.client, taskQueue: config.temporal.taskQueue, log, runbooks: deps.runbooks ?? (() => []) }, user)(ops);
  });

  app.register(async (admin) => {
    guard(admin, () => 'admin');
    drills.admin(admin);
    for (const paused of [true, false]) {
      admin.post(paused ? '/api/pause' : '/api/resume', async (req, reply) => {
        const body = PauseBody.safeParse(req.body ?? {});
        if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
        return api.setPaused(paused, user(req), body.data.reason);
      });
    }
    admin.post('/api/deployments', async (req, reply) => {
      const body = DeploymentBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
      const until = body.data.minutes === null ? null : Date.now() + body.data.minutes * 60_000;
      await api.setDeployment({ target: body.data.target, until, by: user(req) });
      return { target: body.data.target, until: until === null ? null : new Date(until).toISOString() };
    });
    // Re-promotes an auto-demoted step (index 0-based): it runs without approval again.
    admin.post('/api/playbooks/:name/steps/:index/promote', async (req, reply) => {
      const { name, index } = req.params as { name: string; index: string };
      const pb = deps.playbooks().find((p) => p.name === name);
      if (!pb) return reply.code(404).send({ error: `no playbook "${name}"` });
      const step = /^\d+$/.test(index) ? pb.steps[Number(index)] : undefined;
      if (!step) return reply.code(404).send({ error: `playbook ${name} has no step ${index} (steps are numbered 0 to ${pb.steps.length - 1})` });
      const r = await api.promote(name, Number(index), step.name, user(req));
      return { playbook: name, step: Number(index), stepName: step.name, wasDemoted: r.wasDemoted, by: user(req) };
    });
  });

  return app;
}
