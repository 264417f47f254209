// Attacks on the operator API, sent as an attacker with a token would send them, to a real medic
// (Temporal dev server, worker, HTTP server; PagerDuty Events API stand-in): a read-only token
// approving, resolving, pausing; an operator who is nobody's approver or on-call resolving an
// incident (and its PagerDuty page); an expired token; /metrics on the public listener. Each is
// refused with the reason and nothing changes in the workflow, the governor or PagerDuty. Tokens
// never reach the logs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { auditLog, openAuditDb } from '../../src/audit/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';
import { buildServer } from '../../src/server/app.js';
import { buildMetricsServer, listenMetrics } from '../../src/server/metrics.js';
import { medicRegistry } from '../../src/store/metrics.js';
import { runMedicCli } from '../support/cli.js';
import { demoPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';
import { pollUntil } from '../support/poll.js';

const logged: string[] = [];
const audit = auditLog(openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-op-audit-')), 'audit.db')));
const refusals = () => audit.entries().filter((e) => e.kind === 'refusal').map((e) => ({ who: e.who, why: e.why, incidentId: e.incidentId }));
const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) });
let m: Medic;

beforeAll(async () => {
  m = await startMedic({ pagerduty: true, log, audit });
  const step = { name: 'restart', action: 'http' as const, params: { method: 'POST' as const, url: `${m.demo.url}/remediate` } };
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      name: 'guarded',
      match: { alertname: 'Guarded' },
      steps: [{ ...step, risk: 'high', requiresApproval: true, approvers: ['alice', '@oncall'], approvalTimeout: '10m' }],
    }),
    demoPlaybook(m.demo.url, {
      name: 'paged',
      match: { alertname: 'Paged' },
      holdAfterEscalation: '10m',
      steps: [{ ...step, dryRun: true }],
      escalation: [
        { kind: 'pagerduty', routingKeySecret: 'PD_ROUTING_KEY' },
        { kind: 'slack-group', group: '@oncall', wait: '10m' },
      ],
    }),
  );
});
afterAll(() => m?.stop());

const path = (id: string, what: string) => `/api/incidents/${encodeURIComponent(id)}/${what}`;
const pdEvents = (incidentId: string) => m.pd!.events.filter((e) => (e.body as { dedup_key?: string }).dedup_key === incidentId).map((e) => (e.body as { event_action: string }).event_action);

describe('operator API authorization', () => {
  it('a read-only token cannot approve, deny, resolve or pause: 403 naming the scope, nothing changes', async () => {
    const id = await incidentIdFrom(await m.postAlerts('firing', { alertname: 'Guarded', service: 'guarded-read' }));
    const before = await m.waitFor(id, (s) => s.status === 'awaiting_approval');
    const entries = (await m.timeline(id)).length;

    expect((await m.api('GET', `/api/incidents/${encodeURIComponent(id)}`, TOKENS.reader)).status).toBe(200); // reading is its job
    for (const what of ['approve', 'deny', 'resolve']) {
      const r = await m.api('POST', path(id, what), TOKENS.reader, { reason: 'looks fine to me' });
      expect(r).toEqual({ status: 403, body: { error: 'rita may not do this: this needs the operate scope (the token has read)', missingScope: 'operate' } });
    }
    const pause = await m.api('POST', '/api/pause', TOKENS.reader, { reason: 'mine now' });
    expect(pause).toEqual({ status: 403, body: { error: 'rita is not an admin: this needs the admin scope (the token has read)', missingScope: 'admin' } });
    const deploy = await m.api('POST', '/api/deployments', TOKENS.oncall, { target: 'x', minutes: 5 });
    expect(deploy.body).toMatchObject({ missingScope: 'admin' });

    const after = await m.status(id);
    expect(after.status).toBe('awaiting_approval');
    expect(after.pendingApproval).toEqual(before.pendingApproval);
    expect(after.approval).toBeUndefined();
    expect(after.resolvedBy).toBeUndefined();
    expect((await m.timeline(id)).length).toBe(entries);
    expect((await m.api('GET', '/api/governor', TOKENS.reader)).body).toMatchObject({ pause: { paused: false } });
    expect(refusals()).toEqual(
      expect.arrayContaining([
        { who: 'rita', why: 'rita may not do this: this needs the operate scope (the token has read)', incidentId: null },
        { who: 'rita', why: 'rita is not an admin: this needs the admin scope (the token has read)', incidentId: null },
      ]),
    );

    // an operator who is not an approver is refused before the workflow is asked; a member of a
    // listed group (configured for olga) may approve
    const bob = await m.api('POST', path(id, 'approve'), TOKENS.bob, {});
    expect(bob).toEqual({ status: 403, body: { error: 'bob may not decide step 1; approvers: alice, @oncall' } });
    expect((await m.status(id)).approval).toBeUndefined();
    expect(refusals()).toContainEqual({ who: 'bob', why: 'bob may not decide step 1; approvers: alice, @oncall', incidentId: before.incidentId });
    const olga = await m.api('POST', path(id, 'approve'), TOKENS.oncall, {});
    expect(olga.status).toBe(200);
    expect(olga.body).toMatchObject({ decision: 'approve', by: 'olga' });
    expect((await m.timeline(id)).map((e) => e.message)).toContain('step 1/1 (restart) approved by olga');
  });

  it('an operator who did not take the incident and is not in its escalation groups cannot resolve it, nor its PagerDuty page', async () => {
    const id = await incidentIdFrom(await m.postAlerts('firing', { alertname: 'Paged', service: 'paged-resolve' }));
    const { incidentId } = await m.waitFor(id, (s) => s.ladder?.waiting !== undefined); // paged, now asking @oncall
    await pollUntil(() => pdEvents(incidentId), (e) => e.length === 1, 'the page', 30_000);
    expect(pdEvents(incidentId)).toEqual(['trigger']);

    const reader = await m.api('POST', path(id, 'resolve'), TOKENS.reader, { reason: 'x' });
    expect(reader).toMatchObject({ status: 403, body: { missingScope: 'operate' } });
    const bob = await m.api('POST', path(id, 'resolve'), TOKENS.bob, { reason: 'not mine' });
    expect(bob).toEqual({
      status: 403,
      body: { error: `bob may not resolve ${incidentId}: only whoever took it (nobody took it), members of its escalation groups (@oncall) or admins may` },
    });
    const cli = await runMedicCli(['resolve', id, '--reason', 'not mine'], { MEDIC_URL: m.url, MEDIC_TOKEN: TOKENS.bob });
    expect(cli).toMatchObject({ code: 2, out: '', err: `medic: 403: ${bob.body.error}\n` });
    const take = await m.api('POST', path(id, 'take'), TOKENS.bob, {});
    expect(take).toEqual({ status: 403, body: { error: `bob may not take ${incidentId}: only members of @oncall (or admins) may` } });
    const expired = await m.api('POST', path(id, 'resolve'), TOKENS.expired, {});
    expect(expired).toEqual({ status: 401, body: { error: 'token expired on 2020-01-01T00:00:00.000Z (operator eddie): ask an admin for a new one (medic token)' } });

    // nothing reached the workflow or PagerDuty
    const s = await m.status(id);
    expect(s.resolvedBy).toBeUndefined();
    expect(s.owner).toBeUndefined();
    expect(s.phase).not.toBe('done');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pdEvents(incidentId)).toEqual(['trigger']);
    expect(m.pd!.alertsFor(incidentId)[0]!.status).toBe('triggered');
    expect(refusals()).toEqual(
      expect.arrayContaining([
        { who: 'bob', why: bob.body.error, incidentId },
        { who: 'eddie', why: expired.body.error, incidentId: null },
      ]),
    );
    expect(audit.verify().ok).toBe(true);

    // a member of the escalation group may: it takes it, then resolves; the page is resolved
    const took = await runMedicCli(['take', id], { MEDIC_URL: m.url, MEDIC_TOKEN: TOKENS.oncall });
    expect(took).toMatchObject({ code: 0, out: `${id} taken by olga: the escalation ladder stops here\n` });
    expect((await m.status(id)).owner).toMatchObject({ by: 'olga', via: '@oncall' });
    expect(await m.api('POST', path(id, 'resolve'), TOKENS.oncall, { reason: 'fixed' })).toMatchObject({ status: 200, body: { by: 'olga' } });
    await pollUntil(() => pdEvents(incidentId), (e) => e.includes('resolve'), 'the page resolved', 30_000);
    expect(m.pd!.alertsFor(incidentId)[0]!.status).toBe('resolved');
  });

  it('unknown, missing and expired tokens get 401 on every kind of route', async () => {
    for (const [method, url] of [['GET', '/api/incidents'], ['GET', '/api/governor'], ['POST', '/api/pause'], ['POST', path('incident:x:0123456789ab', 'resolve')]] as const) {
      const body = method === 'POST' ? {} : undefined;
      expect((await m.api(method, url, 'not-a-known-token-0123456789', body)).body).toEqual({ error: 'unknown API token' });
      expect((await m.api(method, url, TOKENS.expired, body)).status).toBe(401);
      expect((await fetch(`${m.url}${url}`, { method })).status).toBe(401);
    }
  });

  it('/metrics is not served on the public listener; its own listener serves it, behind its token when set', async () => {
    expect((await fetch(`${m.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${m.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.admin}` } })).status).toBe(404);

    const registry = medicRegistry();
    const token = 'metrics-token-0123456789';
    const config = ConfigSchema.parse({ metrics: { port: 0, token } });
    const metrics = buildMetricsServer({ config, registry, log });
    const url = await listenMetrics(metrics, config);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // loopback by default
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.admin}` } })).status).toBe(401);
      const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('process_cpu_user_seconds_total');
    } finally {
      await metrics.close();
    }

    // listener: public puts it on the main listener, only behind the token (config refuses it without one)
    expect(ConfigSchema.safeParse({ metrics: { listener: 'public' } }).error?.issues[0]).toMatchObject({ path: ['metrics', 'token'], message: 'listener: public needs metrics.token (MEDIC_METRICS_TOKEN)' });
    const publicConfig = { ...m.config, metrics: ConfigSchema.shape.metrics.parse({ listener: 'public', token }) };
    const server = await buildServer({ config: publicConfig, client: m.env.client, log, playbooks: () => [], metrics: registry });
    try {
      expect((await server.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await server.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKENS.alice}` } })).statusCode).toBe(401);
      expect((await server.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('plain-text tokens never appear in the logs; the startup warning names the user', () => {
    const all = logged.join('');
    expect(all).toContain('operator tokens are configured in plain text');
    expect(logged.find((l) => l.includes('plain text'))).toContain('"alice"');
    for (const t of [...Object.values(TOKENS), 'not-a-known-token-0123456789', 'metrics-token-0123456789']) expect(all).not.toContain(t);
    expect(all).toContain('operator API: expired token refused'); // refusals are logged, without the token
  });
});
